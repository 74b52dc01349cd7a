using System.Globalization;

namespace Bulwark.Config;

/// <summary>Which node roles read a key. A key for another role in a shared config file is a warning, not an error (RKE2 shares one file).</summary>
[Flags]
public enum ConfigRole
{
    Server = 1,
    Agent = 2,
    Both = Server | Agent,
}

/// <summary>
/// One entry of the key table. The same table drives config files, <c>BULWARK_*</c> environment
/// variables and command-line flags, so a key is spelled once and validated once.
/// </summary>
public abstract class ConfigKey
{
    protected ConfigKey(string name, string description, ConfigRole roles)
    {
        Name = name;
        Description = description;
        Roles = roles;
    }

    /// <summary>The RKE2 (kebab-case) name, e.g. <c>etcd-snapshot-retention</c>.</summary>
    public string Name { get; }
    public string Description { get; }
    public ConfigRole Roles { get; }
    public string EnvironmentVariable => "BULWARK_" + Name.Replace('-', '_').ToUpperInvariant();
    public string FlagName => "--" + Name;

    /// <summary>A list key accepts YAML sequences, repeated flags, and the <c>key+</c> append form.</summary>
    public abstract bool IsList { get; }

    /// <summary>A flag that may be given without a value (<c>--disable-etcd</c> means true).</summary>
    public virtual bool IsSwitch => false;

    /// <summary>Words for the expected value, used in help text and errors.</summary>
    public abstract string Expected { get; }

    public abstract object DefaultObject { get; }

    /// <summary>Converts one scalar to the key's type, or returns an error text (without location).</summary>
    internal abstract ConversionResult ConvertScalar(string raw);

    /// <summary>Checks the whole value after merging (lists are checked as a whole).</summary>
    internal virtual string? ValidateValue(object value) => null;

    public abstract string Format(object value);
}

internal readonly record struct ConversionResult(object? Value, string? Error)
{
    public static ConversionResult Ok(object value) => new(value, null);
    public static ConversionResult Fail(string error) => new(null, error);
}

/// <summary>A key whose value has type <typeparamref name="T"/>; <see cref="EffectiveConfig.Get{T}"/> reads it typed.</summary>
public abstract class ConfigKey<T> : ConfigKey where T : notnull
{
    protected ConfigKey(string name, T defaultValue, string description, ConfigRole roles)
        : base(name, description, roles) => Default = defaultValue;

    public T Default { get; }
    public override object DefaultObject => Default;
}

public sealed class StringKey : ConfigKey<string>
{
    private readonly Func<string, string?>? _validate;

    public StringKey(string name, string defaultValue, string description, ConfigRole roles = ConfigRole.Both,
        Func<string, string?>? validate = null, string expected = "a string")
        : base(name, defaultValue, description, roles)
    {
        _validate = validate;
        Expected = expected;
    }

    public override bool IsList => false;
    public override string Expected { get; }

    internal override ConversionResult ConvertScalar(string raw)
    {
        var error = _validate?.Invoke(raw);
        return error is null ? ConversionResult.Ok(raw) : ConversionResult.Fail(error);
    }

    public override string Format(object value) => (string)value;
}

public sealed class BoolKey : ConfigKey<bool>
{
    public BoolKey(string name, bool defaultValue, string description, ConfigRole roles = ConfigRole.Both)
        : base(name, defaultValue, description, roles)
    {
    }

    public override bool IsList => false;
    public override bool IsSwitch => true;
    public override string Expected => "true or false";

    internal override ConversionResult ConvertScalar(string raw) => raw.Trim().ToLowerInvariant() switch
    {
        // YAML 1.1 spellings too: RKE2 parses config with a YAML 1.1 library, so "yes" works there.
        "true" or "yes" or "on" => ConversionResult.Ok(true),
        "false" or "no" or "off" => ConversionResult.Ok(false),
        _ => ConversionResult.Fail($"expected true or false, got \"{raw}\""),
    };

    public override string Format(object value) => (bool)value ? "true" : "false";
}

public sealed class IntKey : ConfigKey<int>
{
    public IntKey(string name, int defaultValue, string description, int min, int max, ConfigRole roles = ConfigRole.Both)
        : base(name, defaultValue, description, roles)
    {
        Min = min;
        Max = max;
    }

    public int Min { get; }
    public int Max { get; }
    public override bool IsList => false;

    public override string Expected => (Min, Max) switch
    {
        (1, int.MaxValue) => "a positive integer",
        (0, int.MaxValue) => "a non-negative integer",
        _ => $"an integer from {Min} to {Max}",
    };

    internal override ConversionResult ConvertScalar(string raw) =>
        int.TryParse(raw.Trim(), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var n) && n >= Min && n <= Max
            ? ConversionResult.Ok(n)
            : ConversionResult.Fail($"expected {Expected}, got \"{raw}\"");

    public override string Format(object value) => ((int)value).ToString(CultureInfo.InvariantCulture);
}

public sealed class EnumKey : ConfigKey<string>
{
    public EnumKey(string name, string defaultValue, IReadOnlyList<string> allowed, string description, ConfigRole roles = ConfigRole.Both)
        : base(name, defaultValue, description, roles) => Allowed = allowed;

    public IReadOnlyList<string> Allowed { get; }
    public override bool IsList => false;
    public override string Expected => "one of: " + string.Join(", ", Allowed.Where(a => a.Length > 0));

    internal override ConversionResult ConvertScalar(string raw) =>
        Allowed.Contains(raw, StringComparer.Ordinal)
            ? ConversionResult.Ok(raw)
            : ConversionResult.Fail($"expected {Expected}; got \"{raw}\"");

    public override string Format(object value) => (string)value;
}

public sealed class ListKey : ConfigKey<IReadOnlyList<string>>
{
    private readonly Func<string, string?>? _validateItem;

    public ListKey(string name, string description, ConfigRole roles = ConfigRole.Both, Func<string, string?>? validateItem = null,
        IReadOnlyList<string>? defaultValue = null)
        : base(name, defaultValue ?? [], description, roles) => _validateItem = validateItem;

    public override bool IsList => true;
    public override string Expected => "a list of strings";

    /// <summary>Environment variables hold lists comma-separated, except component args, whose values contain commas.</summary>
    public bool SplitsOnComma => !Name.EndsWith("-arg", StringComparison.Ordinal);

    internal override ConversionResult ConvertScalar(string raw)
    {
        var error = _validateItem?.Invoke(raw);
        return error is null ? ConversionResult.Ok(raw) : ConversionResult.Fail(error);
    }

    public override string Format(object value) => "[" + string.Join(", ", (IReadOnlyList<string>)value) + "]";
}
