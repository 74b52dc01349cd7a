using System.Text.RegularExpressions;

namespace Bulwark.Compliance.Catalog;

/// <summary>
/// Recognises the common shapes of kube-bench audit commands and reads the same evidence natively, so a
/// kube-bench catalog needs no shell for them: `ps -ef | grep BIN` (a component's argv), `stat -c … PATH`
/// and `find DIR -name PATTERN | xargs stat -c …` (modes and owners), `cat FILE` in audit_config (a
/// structured file). Anything else is left to --allow-exec.
/// </summary>
public static partial class KubeBenchAudit
{
    /// <summary>Native evidence for already variable-expanded commands; null when a command is not one of the known shapes.</summary>
    public static EvidenceSpec? Translate(string? audit, string? auditConfig, IReadOnlyDictionary<string, ComponentSource> components)
    {
        string? args = null;
        IReadOnlyList<string> stat = [];
        string? config = null;
        var configIfPresent = false;
        if (audit is not null)
        {
            if (Unsafe(audit))
            {
                return null;
            }
            if (ProcessPattern().Match(audit) is { Success: true } ps)
            {
                var bin = Path.GetFileName(ps.Groups["bin"].Value);
                args = components.Values.FirstOrDefault(c => c.Binaries.Contains(bin, StringComparer.Ordinal))?.Name;
                if (args is null)
                {
                    return null;
                }
            }
            else if (FindStatPattern().Match(audit) is { Success: true } find)
            {
                stat = [$"{find.Groups["dir"].Value.TrimEnd('/')}/**/{find.Groups["name"].Value}"];
            }
            else if (StatPattern().Match(audit) is { Success: true } st)
            {
                stat = st.Groups["path"].Captures.Select(c => c.Value).Distinct().ToList();
            }
            else
            {
                return null;
            }
        }
        if (auditConfig is not null)
        {
            if (Unsafe(auditConfig) || CatPattern().Match(auditConfig) is not { Success: true } cat)
            {
                return null;
            }
            config = cat.Groups["path"].Value;
            configIfPresent = cat.Groups["guard"].Success;
        }
        return args is null && stat.Count == 0 && config is null ? null : new EvidenceSpec { Args = args is null ? [] : [args], Stat = stat, Config = config, ConfigIfPresent = configIfPresent };
    }

    /// <summary>Command substitutions, shell variables left to the shell, loops and if/else scripts are beyond what is recognised.</summary>
    private static bool Unsafe(string command) => command.Contains('$', StringComparison.Ordinal) || command.Contains('`') || command.Contains(" for ", StringComparison.Ordinal)
        || command.Contains("else", StringComparison.Ordinal);

    [GeneratedRegex(@"^\s*(/bin/|/usr/bin/)?ps\s+(-ef|-fC|aux)\s*(\|\s*(/bin/|/usr/bin/)?grep\s+)?['""]?(?<bin>[\w./-]+)['""]?(\s*\|\s*(/bin/|/usr/bin/)?grep\s+-v\s+grep)?\s*$")]
    private static partial Regex ProcessPattern();

    [GeneratedRegex(@"find\s+(?<dir>/[^\s'""]+)\s+-name\s+['""]?(?<name>[\w.*-]+)['""]?\s*\|\s*xargs\s+(/usr/bin/)?stat\s+-c\s+['""]?[^'""]*%[aUG][^'""]*['""]?")]
    private static partial Regex FindStatPattern();

    [GeneratedRegex(@"stat\s+-c\s+['""]?[^'""\s]*%[aUG][^'""\s]*['""]?(\s+(?<path>/[^\s;'""|]+))+")]
    private static partial Regex StatPattern();

    [GeneratedRegex(@"^\s*(?<guard>/bin/sh\s+-c\s+['""]?\s*if\s+test\s+-e\s+\S+\s*;\s*then\s+)?(/bin/|/usr/bin/)?cat\s+(?<path>/[^\s;'""|]+)\s*(;\s*fi\s*['""]?)?\s*$")]
    private static partial Regex CatPattern();
}
