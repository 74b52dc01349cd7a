namespace Bulwark.Kms;

/// <summary>
/// How the KMS keys are kept at rest, from the config (<c>secrets-encryption-key-protection</c>: auto, tpm, file):
/// auto seals to the TPM when its device exists (or a non-device TCTI such as a simulator is configured).
/// </summary>
public sealed record KeyProtection(string Requested, string Tcti, string Pcrs)
{
    public const string Auto = "auto";
    public const string Tpm = "tpm";
    public const string File = "file";
    public const string DefaultTcti = "device:/dev/tpmrm0";

    /// <summary>"tpm" or "file" for a new keyring.</summary>
    public string Resolve() => Requested switch
    {
        Tpm => Tpm,
        File => File,
        _ => TpmPresent ? Tpm : File,
    };

    /// <summary>A device TCTI names a device node that must exist; another TCTI (swtpm, mssim) names a TPM reached otherwise.</summary>
    public bool TpmPresent => Tcti.StartsWith("device:", StringComparison.Ordinal) ? System.IO.File.Exists(Tcti["device:".Length..]) : Tcti.Length > 0;

    public IKeyProtector Create(string kind, string folder, string pcrs) => kind switch
    {
        Tpm => new TpmKeyProtector(folder, Tcti, pcrs),
        File => new FileKeyProtector(folder),
        _ => throw new KmsKeyringException($"{folder}: unknown key protection \"{kind}\" in keyring.json (expected tpm or file)"),
    };
}
