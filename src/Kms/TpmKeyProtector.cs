using System.Security.Cryptography;
using System.Text;
using Bulwark.FileSystem;
using Bulwark.Processes;

namespace Bulwark.Kms;

/// <summary>
/// Seals each key to the TPM 2.0 with tpm2-tools: a sealed-data object under the owner hierarchy's primary key
/// (re-created from the TPM's seed each time, never stored), optionally bound to PCR values by a policy. Only the
/// sealed public/private blobs reach the disk; they unseal on this TPM alone (and only while the PCRs match).
/// </summary>
public sealed class TpmKeyProtector(string folder, string tcti, string pcrs) : IKeyProtector
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    public string Kind => KeyProtection.Tpm;

    public string Description => $"sealed to the TPM 2.0 at {tcti}" + (pcrs.Length > 0 ? $", bound to PCRs {pcrs}" : ", no PCR binding");

    public IReadOnlyList<string> FilesOf(string keyId) => [Path.Combine(folder, keyId + ".tpm.pub"), Path.Combine(folder, keyId + ".tpm.priv")];

    public async Task ProtectAsync(string keyId, ReadOnlyMemory<byte> key, CancellationToken cancellationToken)
    {
        AtomicFile.EnsureDirectory(folder, AtomicFile.PrivateDirectory);
        var work = Directory.CreateTempSubdirectory("bulwark-tpm-");
        try
        {
            var primary = await CreatePrimaryAsync(work.FullName, cancellationToken).ConfigureAwait(false);
            var pub = Path.Combine(work.FullName, "key.pub");
            var priv = Path.Combine(work.FullName, "key.priv");
            List<string> create = ["-C", primary, "-g", "sha256", "-u", pub, "-r", priv, "-i", "-"];
            if (pcrs.Length > 0)
            {
                var policy = Path.Combine(work.FullName, "pcr.policy");
                await RunAsync("tpm2_createpolicy", ["--policy-pcr", "-l", pcrs, "-L", policy], null, cancellationToken).ConfigureAwait(false);
                // No userwithauth: the object unseals only by satisfying the PCR policy.
                create.AddRange(["-L", policy, "-a", "fixedtpm|fixedparent|adminwithpolicy|noda"]);
            }
            // Sealed as base64 text (44 bytes; a sealed object holds at most 128).
            var input = Encoding.ASCII.GetBytes(Convert.ToBase64String(key.Span));
            try
            {
                await RunAsync("tpm2_create", create, input, cancellationToken).ConfigureAwait(false);
            }
            finally
            {
                CryptographicOperations.ZeroMemory(input);
            }
            var files = FilesOf(keyId);
            AtomicFile.WriteAllBytes(files[0], File.ReadAllBytes(pub), AtomicFile.Private);
            AtomicFile.WriteAllBytes(files[1], File.ReadAllBytes(priv), AtomicFile.Private);
        }
        finally
        {
            await FlushAsync().ConfigureAwait(false);
            work.Delete(recursive: true);
        }
    }

    public async Task<byte[]> UnprotectAsync(string keyId, CancellationToken cancellationToken)
    {
        var files = FilesOf(keyId);
        if (files.FirstOrDefault(f => !File.Exists(f)) is { } missing)
        {
            throw new KmsKeyringException($"{missing}: the sealed blob of {keyId} is missing; restore server/cred/kms/ from a backup of this host (sealed blobs open on this TPM only)");
        }
        var work = Directory.CreateTempSubdirectory("bulwark-tpm-");
        try
        {
            var primary = await CreatePrimaryAsync(work.FullName, cancellationToken).ConfigureAwait(false);
            var loaded = Path.Combine(work.FullName, "key.ctx");
            await RunAsync("tpm2_load", ["-C", primary, "-u", files[0], "-r", files[1], "-c", loaded], null, cancellationToken,
                $"{keyId} was sealed by another TPM (or the TPM was cleared): it cannot be unsealed here").ConfigureAwait(false);
            await FlushAsync().ConfigureAwait(false);
            List<string> unseal = ["-c", loaded];
            if (pcrs.Length > 0)
            {
                unseal.AddRange(["-p", "pcr:" + pcrs]);
            }
            var text = await RunAsync("tpm2_unseal", unseal, null, cancellationToken,
                $"the TPM refused to unseal {keyId}" + (pcrs.Length > 0 ? $": PCRs {pcrs} differ from when it was sealed (boot chain changed)" : "")).ConfigureAwait(false);
            var key = new byte[KeyEncryptionKey.KeySize];
            if (!Convert.TryFromBase64String(text.Trim(), key, out var written) || written != key.Length)
            {
                throw new KmsKeyringException($"{files[1]}: the TPM unsealed something that is not a {KeyEncryptionKey.KeySize}-byte key");
            }
            return key;
        }
        finally
        {
            await FlushAsync().ConfigureAwait(false);
            work.Delete(recursive: true);
        }
    }

    /// <summary>The owner hierarchy's ECC primary: the same key from the same seed every time, so it is never stored.</summary>
    private async Task<string> CreatePrimaryAsync(string work, CancellationToken cancellationToken)
    {
        var context = Path.Combine(work, "primary.ctx");
        await RunAsync("tpm2_createprimary", ["-C", "o", "-g", "sha256", "-G", "ecc", "-c", context], null, cancellationToken).ConfigureAwait(false);
        await FlushAsync().ConfigureAwait(false);
        return context;
    }

    /// <summary>
    /// Without a resource manager (a raw device or a simulator) loaded objects stay in the TPM's three or so slots: free
    /// them after each step. The saved context files stay valid and are loaded again by the next tool.
    /// </summary>
    private async Task FlushAsync()
    {
        try
        {
            await ProcessRunner.RunAsync(Spec("tpm2_flushcontext", ["-t"], null), CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception e) when (e is ProgramNotFoundException or ProcessTimeoutException)
        {
            // Best effort: the next command reports a real problem with the TPM.
        }
    }

    private async Task<string> RunAsync(string tool, IReadOnlyList<string> arguments, byte[]? input, CancellationToken cancellationToken, string? meaning = null)
    {
        ProcessResult result;
        try
        {
            result = await ProcessRunner.RunAsync(Spec(tool, arguments, input), cancellationToken).ConfigureAwait(false);
        }
        catch (ProgramNotFoundException e)
        {
            throw new KmsKeyringException($"{tool} is not installed: install tpm2-tools (apt-get install tpm2-tools), or set secrets-encryption-key-protection: file", e);
        }
        if (!result.Succeeded)
        {
            // tpm2-tools end with "Unable to run <tool>"; the line with the TPM's response code says why.
            var lines = result.StandardError.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            var detail = lines.FirstOrDefault(l => l.StartsWith("ERROR", StringComparison.Ordinal) && l.Contains("0x", StringComparison.Ordinal))
                ?? lines.LastOrDefault() ?? $"exit code {result.ExitCode}";
            throw new KmsKeyringException((meaning ?? $"{tool} failed on the TPM at {tcti}") + $" ({tool}: {detail})");
        }
        return result.StandardOutput;
    }

    private ProcessSpec Spec(string tool, IReadOnlyList<string> arguments, byte[]? input) =>
        new(ProgramLocator.Find(tool) ?? tool, ["-T", tcti, .. arguments])
        {
            StandardInput = input,
            Timeout = Timeout,
        };
}
