using Bulwark.Config;

namespace Bulwark.Crypto;

/// <summary>The <c>fips-mode</c> setting.</summary>
public enum FipsMode
{
    /// <summary>Approved algorithms only, power-on self-tests (the default).</summary>
    On,

    /// <summary>As <see cref="On"/>, and refuse to start unless the OpenSSL FIPS provider is active.</summary>
    Strict,

    /// <summary>No algorithm policy and no self-tests.</summary>
    Off,
}

public static class FipsModes
{
    public static FipsMode Parse(string value) => value switch
    {
        "on" => FipsMode.On,
        "strict" => FipsMode.Strict,
        "off" => FipsMode.Off,
        _ => throw new ArgumentException($"fips-mode must be on, strict or off; got \"{value}\"", nameof(value)),
    };

    public static FipsMode From(EffectiveConfig config) => Parse(config.Get(ConfigKeys.FipsMode));

    public static string Name(this FipsMode mode) => mode switch
    {
        FipsMode.On => "on",
        FipsMode.Strict => "strict",
        _ => "off",
    };
}
