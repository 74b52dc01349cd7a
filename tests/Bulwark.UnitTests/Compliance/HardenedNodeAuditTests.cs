using Bulwark.Compliance;

namespace Bulwark.Tests.Compliance;

public sealed class HardenedNodeAuditTests
{
    [Fact]
    public async Task Debug_dump()
    {
        using var node = HardenedNodeFixture.Create();
        var report = await AuditHarness.RunAsync(node);
        foreach (var c in report.Benchmarks.SelectMany(b => b.Checks.Select(c => (b.Id, c))))
        {
            if (c.c.Status != CheckStatus.Pass && c.c.Status != CheckStatus.Manual)
            {
                TestContext.Current.SendDiagnosticMessage($"{c.Id} {c.c.Id} {c.c.Status} {c.c.Reason}");
                File.AppendAllText("/tmp/audit-debug.txt", $"{c.Id} {c.c.Id} {c.c.Status} {c.c.Reason} :: {string.Join(" | ", c.c.Evidence.Select(e => $"{e.Subject}={e.Actual} [{e.Expected}] @ {e.Source} {e.Passed}"))}\n");
            }
        }
        File.AppendAllText("/tmp/audit-debug.txt", report.Totals + "\n");
    }
}
