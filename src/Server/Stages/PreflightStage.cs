using Bulwark.Config;
using Bulwark.Diagnostics;
using Bulwark.Hardening;
using Bulwark.Resources;

namespace Bulwark.Server.Stages;

/// <summary>The host preflight of the hardening profile: read-only, every violation listed at once, before anything is written.</summary>
public sealed class PreflightStage : IStage
{
    public string Name => "preflight";

    public Task<StageResult> RunAsync(NodeContext node, CancellationToken cancellationToken)
    {
        if (node.Config.Profile == HardeningProfile.None)
        {
            return Task.FromResult(new StageResult("no hardening profile set (profile: cis-1.23 enables the CIS checks); skipped"));
        }
        var profile = node.Config.Get(ConfigKeys.Profile);
        var report = new HostPreflight(node.HostRoot, SysctlProfile.Load(EmbeddedData.BuiltIn)).Run(profile, node.Config.Role, Cni.CniSelection.From(node.Config));
        if (!report.Passed)
        {
            var violations = report.Violations.Select(f =>
                $"  FAIL  {f.Subject}: current {f.Current}; expected {f.Expected} [{string.Join(", ", f.Controls)}]\n        fix: {f.Fix}");
            throw new BulwarkException(ErrorKind.Refused,
                $"profile {profile}: {report.Violations.Count()} host checks failed; nothing was written. {report.Advice}\n" +
                string.Join('\n', violations));
        }
        return Task.FromResult(new StageResult($"profile {profile}: all {report.Findings.Count} host checks passed"));
    }
}
