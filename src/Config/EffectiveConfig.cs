using System.Collections.Immutable;
using Bulwark.FileSystem;

namespace Bulwark.Config;

/// <summary>The merged, validated configuration: each key's typed value and where it came from. Immutable.</summary>
public sealed class EffectiveConfig
{
    private readonly ImmutableDictionary<string, (object Value, ConfigSource Source)> _values;

    internal EffectiveConfig(ConfigRole role, ImmutableDictionary<string, (object Value, ConfigSource Source)> values, IReadOnlyList<string> files)
    {
        Role = role;
        _values = values;
        Files = files;
    }

    /// <summary>Configuration with every key at its default; for tests and tools that need no files.</summary>
    public static EffectiveConfig Defaults(ConfigRole role = ConfigRole.Server) =>
        new(role, ImmutableDictionary<string, (object, ConfigSource)>.Empty, []);

    public ConfigRole Role { get; }

    /// <summary>The config files that were read, in order.</summary>
    public IReadOnlyList<string> Files { get; }

    public T Get<T>(ConfigKey<T> key) where T : notnull =>
        _values.TryGetValue(key.Name, out var entry) ? (T)entry.Value : key.Default;

    public ConfigSource SourceOf(ConfigKey key) =>
        _values.TryGetValue(key.Name, out var entry) ? entry.Source : ConfigSource.Default;

    public bool IsSet(ConfigKey key) => _values.ContainsKey(key.Name);

    public EffectiveConfig With<T>(ConfigKey<T> key, T value, ConfigSource source) where T : notnull =>
        new(Role, _values.SetItem(key.Name, (value, source)), Files);

    public IEnumerable<(ConfigKey Key, object Value, ConfigSource Source)> Entries() =>
        ConfigKeys.ForRole(Role).Select(k => _values.TryGetValue(k.Name, out var e) ? (k, e.Value, e.Source) : (k, k.DefaultObject, ConfigSource.Default));

    // Convenience views used across capabilities.
    public string DataDir => Path.GetFullPath(Get(ConfigKeys.DataDir));
    public HardeningProfile Profile => HardeningProfiles.Parse(Get(ConfigKeys.Profile));

    /// <summary>This node's paths: the data dir, and <c>&lt;etc&gt;</c> = the folder of the first config file read.</summary>
    public NodeLayout Layout => new(DataDir, EtcDir);

    private string EtcDir
    {
        get
        {
            if (Files.FirstOrDefault() is not { } first)
            {
                return Path.GetDirectoryName(ConfigLoader.DefaultConfigFile)!;
            }
            var dir = Path.GetDirectoryName(Path.GetFullPath(first))!;
            return dir.EndsWith(".yaml.d", StringComparison.Ordinal) ? Path.GetDirectoryName(dir)! : dir;
        }
    }
}

public enum HardeningProfile
{
    None,
    Cis,
    Etcd,
}

public static class HardeningProfiles
{
    public static HardeningProfile Parse(string value) => value switch
    {
        "cis" or "cis-1.23" => HardeningProfile.Cis,
        "etcd" => HardeningProfile.Etcd,
        _ => HardeningProfile.None,
    };

    /// <summary>The etcd user is required by both the CIS and the etcd profile (CIS 1.1.11/1.1.12).</summary>
    public static bool RequiresEtcdUser(this HardeningProfile profile) => profile is HardeningProfile.Cis or HardeningProfile.Etcd;
}
