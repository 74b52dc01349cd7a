using Bulwark.Config;

namespace Bulwark.Hardening;

/// <summary>One preflight check: what was looked at, what was found, what is required, and the exact fix.</summary>
public sealed record PreflightFinding(
    string Check,
    string Subject,
    IReadOnlyList<string> Controls,
    bool Passed,
    string Current,
    string Expected,
    string Fix);

public sealed record PreflightReport(string Profile, string HostRoot, string Role, IReadOnlyList<PreflightFinding> Findings)
{
    public bool Passed => Findings.All(f => f.Passed);
    public IEnumerable<PreflightFinding> Violations => Findings.Where(f => !f.Passed);

    /// <summary>What to do about the violations: <c>hardening apply</c> fixes kernel parameters and accounts, not the rest.</summary>
    public string Advice
    {
        get
        {
            var byApply = Violations.Count(f => f.Check is HostPreflight.KernelParameterCheck or HostPreflight.AccountCheck);
            return byApply == Violations.Count() ? "Fix them all at once with: bulwark hardening apply"
                : byApply > 0 ? "bulwark hardening apply fixes the kernel parameters and the etcd account at once; the others need the fix shown with each."
                : "Each needs the fix shown with it.";
        }
    }
}

/// <summary>
/// The host preflight of a hardening profile. It only reads (the host root's /proc/sys, /etc/passwd, /etc/group),
/// runs before anything is written to the data dir, and reports every violation at once.
/// </summary>
public sealed class HostPreflight(HostRoot host, SysctlProfile sysctl)
{
    public const string EtcdAccount = "etcd";
    public const string KernelParameterCheck = "kernel parameter";
    public const string AccountCheck = "account";

    /// <summary>Runs the profile's checks; with a CNI selection also that CNI's host prerequisites (src/Cni).</summary>
    public PreflightReport Run(string profileName, ConfigRole role, Cni.CniSelection? cni = null)
    {
        var profile = HardeningProfiles.Parse(profileName);
        var findings = new List<PreflightFinding>();
        if (profile == HardeningProfile.Cis)
        {
            findings.AddRange(sysctl.Parameters.Select(CheckKernelParameter));
        }
        if (profile.RequiresEtcdUser() && role == ConfigRole.Server)
        {
            findings.Add(CheckAccount("etcd user", HostAccounts.UserExists(host, EtcdAccount), "/etc/passwd",
                "useradd --system --gid etcd --no-create-home --shell /usr/sbin/nologin etcd (or: bulwark hardening apply)"));
            findings.Add(CheckAccount("etcd group", HostAccounts.GroupExists(host, EtcdAccount), "/etc/group",
                "groupadd --system etcd (or: bulwark hardening apply)"));
        }
        if (cni is not null)
        {
            findings.AddRange(Cni.CniHostPrerequisites.Load(host, Resources.EmbeddedData.BuiltIn).Run(cni));
        }
        return new PreflightReport(profileName, host.Path, role == ConfigRole.Agent ? "agent" : "server", findings);
    }

    private PreflightFinding CheckKernelParameter(KernelParameter parameter)
    {
        var path = host.Resolve(parameter.ProcPath);
        string current;
        try
        {
            current = File.Exists(path) ? File.ReadAllText(path).Trim() : "(not present in this kernel)";
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            current = $"(unreadable: {e.Message})";
        }
        return new PreflightFinding(
            KernelParameterCheck,
            parameter.Name,
            parameter.Controls,
            current == parameter.Value,
            current,
            parameter.Value,
            $"sysctl -w {parameter.Name}={parameter.Value}, and persist it in /{SysctlProfile.InstallPath} (bulwark hardening apply does both)");
    }

    private static PreflightFinding CheckAccount(string subject, bool exists, string file, string fix) =>
        new(AccountCheck, subject, ["CIS-1.1.11", "CIS-1.1.12"], exists, exists ? $"present in {file}" : $"missing from {file}", "present", fix);
}
