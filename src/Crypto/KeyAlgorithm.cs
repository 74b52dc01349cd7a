using Bulwark.Config;

namespace Bulwark.Crypto;

/// <summary>Key types Bulwark generates (config key <c>pki-key-algorithm</c>).</summary>
public enum KeyAlgorithm
{
    EcdsaP256,
    EcdsaP384,
    Rsa3072,
}

public static class KeyAlgorithms
{
    public static KeyAlgorithm Parse(string value) => value switch
    {
        "ecdsa-p256" => KeyAlgorithm.EcdsaP256,
        "ecdsa-p384" => KeyAlgorithm.EcdsaP384,
        "rsa-3072" => KeyAlgorithm.Rsa3072,
        _ => throw new ArgumentException($"pki-key-algorithm must be ecdsa-p256, ecdsa-p384 or rsa-3072; got \"{value}\"", nameof(value)),
    };

    public static KeyAlgorithm From(EffectiveConfig config) => Parse(config.Get(ConfigKeys.PkiKeyAlgorithm));

    public static string Name(this KeyAlgorithm algorithm) => algorithm switch
    {
        KeyAlgorithm.EcdsaP256 => "ecdsa-p256",
        KeyAlgorithm.EcdsaP384 => "ecdsa-p384",
        _ => "rsa-3072",
    };
}
