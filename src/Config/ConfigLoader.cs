using System.Collections.Immutable;

namespace Bulwark.Config;

/// <summary>What to load: the role, an explicit config file (from --config), the environment and the flags given.</summary>
public sealed record ConfigRequest(
    ConfigRole Role,
    string? ConfigFile,
    IReadOnlyDictionary<string, string> Environment,
    IReadOnlyList<RawSetting> Flags)
{
    /// <summary>Checks registered by the capabilities that own a key's meaning (composed at the CLI edge).</summary>
    public IReadOnlyList<ConfigCheck> Checks { get; init; } = [];

    public static ConfigRequest FromProcess(ConfigRole role, string? configFile, IReadOnlyList<RawSetting> flags)
    {
        var env = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (System.Collections.DictionaryEntry e in System.Environment.GetEnvironmentVariables())
        {
            env[(string)e.Key] = (string?)e.Value ?? "";
        }
        return new ConfigRequest(role, configFile, env, flags);
    }
}

public sealed record ConfigLoadResult(EffectiveConfig? Config, IReadOnlyList<ConfigProblem> Problems)
{
    public IEnumerable<ConfigProblem> Errors => Problems.Where(p => p.Severity == ProblemSeverity.Error);
    public IEnumerable<ConfigProblem> Warnings => Problems.Where(p => p.Severity == ProblemSeverity.Warning);
}

/// <summary>
/// Loads configuration with RKE2's precedence: defaults &lt; config.yaml &lt; config.yaml.d/*.yaml (lexical)
/// &lt; BULWARK_* environment &lt; flags. Every problem is collected and reported together; nothing is written.
/// </summary>
public static class ConfigLoader
{
    public const string DefaultConfigFile = "/etc/bulwark/config.yaml";
    public const string ConfigFileVariable = "BULWARK_CONFIG_FILE";
    private const string EnvironmentPrefix = "BULWARK_";

    public static ConfigLoadResult Load(ConfigRequest request)
    {
        var problems = new List<ConfigProblem>();
        var settings = new List<RawSetting>();
        var files = new List<string>();

        var explicitFile = request.ConfigFile ?? request.Environment.GetValueOrDefault(ConfigFileVariable);
        var configFile = string.IsNullOrEmpty(explicitFile) ? DefaultConfigFile : explicitFile;
        if (File.Exists(configFile))
        {
            AddFile(configFile, settings, problems, files);
        }
        else if (!string.IsNullOrEmpty(explicitFile))
        {
            problems.Add(ConfigProblem.Error(configFile, null, "config file not found; check the path given to --config"));
        }
        var dropInDir = configFile + ".d";
        if (Directory.Exists(dropInDir))
        {
            foreach (var file in Directory.GetFiles(dropInDir, "*.yaml").Order(StringComparer.Ordinal))
            {
                AddFile(file, settings, problems, files);
            }
        }

        settings.AddRange(ReadEnvironment(request.Environment, problems));
        settings.AddRange(request.Flags);

        var values = ImmutableDictionary.CreateBuilder<string, (object Value, ConfigSource Source)>(StringComparer.Ordinal);
        foreach (var setting in settings)
        {
            Apply(setting, request.Role, values, problems);
        }
        var config = new EffectiveConfig(request.Role, values.ToImmutable(), files);
        config = ConfigValidator.Validate(config, request.Checks, problems);
        return problems.Any(p => p.Severity == ProblemSeverity.Error)
            ? new ConfigLoadResult(null, problems)
            : new ConfigLoadResult(config, problems);
    }

    private static void AddFile(string path, List<RawSetting> settings, List<ConfigProblem> problems, List<string> files)
    {
        var (fileSettings, fileProblems) = YamlConfigReader.ReadFile(path);
        settings.AddRange(fileSettings);
        problems.AddRange(fileProblems);
        files.Add(path);
    }

    private static IEnumerable<RawSetting> ReadEnvironment(IReadOnlyDictionary<string, string> environment, List<ConfigProblem> problems)
    {
        foreach (var (variable, value) in environment.OrderBy(e => e.Key, StringComparer.Ordinal))
        {
            if (!variable.StartsWith(EnvironmentPrefix, StringComparison.Ordinal) || variable == ConfigFileVariable)
            {
                continue;
            }
            var name = variable[EnvironmentPrefix.Length..].ToLowerInvariant().Replace('_', '-');
            var key = ConfigKeys.Find(name);
            var source = ConfigSource.Environment(variable);
            if (key is ListKey list && list.SplitsOnComma)
            {
                var items = value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
                yield return new RawSetting(name, false, items, true, source);
            }
            else
            {
                yield return new RawSetting(name, false, [value], false, source);
            }
        }
    }

    private static void Apply(RawSetting setting, ConfigRole role,
        ImmutableDictionary<string, (object Value, ConfigSource Source)>.Builder values, List<ConfigProblem> problems)
    {
        var where = setting.Source.Where;
        var shownName = setting.Source.Kind == ConfigSourceKind.Environment ? null : setting.Name + (setting.Append ? "+" : "");
        var key = ConfigKeys.Find(setting.Name);
        if (key is null)
        {
            problems.Add(ConfigProblem.Error(where, shownName, UnknownKeyMessage(setting)));
            return;
        }
        if ((key.Roles & role) == 0)
        {
            var applies = key.Roles == ConfigRole.Server ? "servers" : "agents";
            problems.Add(ConfigProblem.Warning(where, key.Name, $"applies to {applies} only; ignored here"));
            return;
        }
        if (setting.Append && !key.IsList)
        {
            problems.Add(ConfigProblem.Error(where, shownName, $"only list keys can be appended to with '+'; write '{key.Name}:' instead"));
            return;
        }
        if (setting.IsSequence && !key.IsList)
        {
            problems.Add(ConfigProblem.Error(where, key.Name, $"expected {key.Expected}, got a list"));
            return;
        }
        if (!key.IsList && setting.Values.Count != 1)
        {
            problems.Add(ConfigProblem.Error(where, key.Name, $"expected one value ({key.Expected}), got {setting.Values.Count}"));
            return;
        }

        var converted = new List<object>(setting.Values.Count);
        var failed = false;
        foreach (var raw in setting.Values)
        {
            var result = key.ConvertScalar(raw);
            if (result.Error is not null)
            {
                problems.Add(ConfigProblem.Error(where, key.Name, result.Error));
                failed = true;
            }
            else
            {
                converted.Add(result.Value!);
            }
        }
        if (failed)
        {
            return;
        }

        if (key.IsList)
        {
            var items = converted.Cast<string>().ToList();
            if (setting.Append && values.TryGetValue(key.Name, out var existing))
            {
                items = [.. (IReadOnlyList<string>)existing.Value, .. items];
            }
            else if (setting.Append)
            {
                items = [.. ((ListKey)key).Default, .. items];
            }
            values[key.Name] = ((IReadOnlyList<string>)items.AsReadOnly(), setting.Source);
        }
        else
        {
            values[key.Name] = (converted[0], setting.Source);
        }
    }

    private static string UnknownKeyMessage(RawSetting setting)
    {
        var suggestion = Suggestions.Closest(setting.Name, ConfigKeys.All.Select(k => k.Name));
        var what = setting.Source.Kind switch
        {
            ConfigSourceKind.Environment => $"unknown variable (no key '{setting.Name}')",
            _ => "unknown key",
        };
        if (suggestion is null)
        {
            return $"{what}; run 'bulwark config print' to list the supported keys";
        }
        var spelled = setting.Source.Kind == ConfigSourceKind.Environment ? ConfigKeys.Find(suggestion)!.EnvironmentVariable : suggestion;
        return $"{what}; did you mean '{spelled}'?";
    }
}
