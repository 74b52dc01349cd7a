using Bulwark.Resources;

namespace Bulwark.Hardening;

/// <summary>A kernel parameter the profile requires, with the controls it satisfies (read from the data file).</summary>
public sealed record KernelParameter(string Name, string Value, IReadOnlyList<string> Controls, string Why)
{
    /// <summary>/proc/sys path relative to the host root: vm.overcommit_memory → proc/sys/vm/overcommit_memory.</summary>
    public string ProcPath => "proc/sys/" + Name.Replace('.', '/');
}

/// <summary>The sysctl drop-in from hardening/sysctl-cis.conf: both the file installed on hosts and the preflight's rules.</summary>
public sealed record SysctlProfile(IReadOnlyList<KernelParameter> Parameters, string FileText)
{
    public const string ResourcePath = "hardening/sysctl-cis.conf";

    /// <summary>Where <c>hardening apply</c> installs it, relative to the host root.</summary>
    public const string InstallPath = "etc/sysctl.d/90-bulwark-cis.conf";

    public static SysctlProfile Load(EmbeddedData data) => Parse(data.ReadText(ResourcePath));

    public static SysctlProfile Parse(string text)
    {
        var parameters = new List<KernelParameter>();
        IReadOnlyList<string> controls = [];
        var why = "";
        var lineNumber = 0;
        foreach (var rawLine in text.Split('\n'))
        {
            lineNumber++;
            var line = rawLine.Trim();
            if (line.StartsWith("# controls:", StringComparison.Ordinal))
            {
                controls = line["# controls:".Length..].Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
            }
            else if (line.StartsWith("# why:", StringComparison.Ordinal))
            {
                why = line["# why:".Length..].Trim();
            }
            else if (line.Length > 0 && line[0] is not ('#' or ';'))
            {
                var eq = line.IndexOf('=', StringComparison.Ordinal);
                if (eq <= 0)
                {
                    throw new FormatException($"{ResourcePath}:{lineNumber}: expected 'name = value', got \"{line}\"");
                }
                if (controls.Count == 0)
                {
                    throw new FormatException($"{ResourcePath}:{lineNumber}: {line[..eq].Trim()} has no '# controls:' line above it; every hardened setting names its control");
                }
                parameters.Add(new KernelParameter(line[..eq].Trim(), line[(eq + 1)..].Trim(), controls, why));
                controls = [];
                why = "";
            }
        }
        return new SysctlProfile(parameters, text);
    }
}
