using Bulwark.Compliance.Catalog;

namespace Bulwark.Tests.Compliance;

/// <summary>
/// The kube-bench folder Bulwark ships (policies/kube-bench/bulwark-cis-1.12) keeps kube-bench's published cis-1.12
/// checks: each id in the same section, scored and typed alike; sections 2 (etcd), 3 (control plane) and 5 (policies)
/// whole, with the same tests (flags, paths, env, ops, values). Only paths in audits and remediations are Bulwark's.
/// </summary>
public sealed class ShippedKubeBenchFolderDataTests
{
    private static Dictionary<string, (string Section, CheckDefinition Check)> Load(string folder, string benchmark) =>
        Directory.EnumerateFiles(folder, "*.yaml").Where(f => Path.GetFileName(f) != "config.yaml")
            .SelectMany(f => CatalogLoader.ParseControls(File.ReadAllText(f), f, benchmark).Groups)
            .SelectMany(g => g.Checks.Select(c => (Section: g.Id, Check: c)))
            .ToDictionary(x => x.Check.Id, StringComparer.Ordinal);

    private static string Tests(CheckDefinition c) => c.Tests is null ? "" :
        $"{c.Tests.BinOp}: " + string.Join("; ", c.Tests.Items.Select(i => $"{i.Flag}|{i.Path}|{i.Env}|{i.Set}|{i.Compare?.Op}|{i.Compare?.Value}"));

    [Fact]
    public void Every_shipped_check_is_kube_benchs_cis_1_12_check_of_that_id()
    {
        var ours = Load(Path.Combine(RepoPaths.Root, "policies/kube-bench/bulwark-cis-1.12"), "bulwark-cis-1.12");
        var theirs = Load(RepoPaths.Fixture("kube-bench/cis-1.12"), "cis-1.12");
        Assert.Empty(ours.Values.Where(o => o.Check.Invalid is not null).Select(o => $"{o.Check.Id}: {o.Check.Invalid}"));
        foreach (var (id, (section, check)) in ours)
        {
            Assert.True(theirs.ContainsKey(id), $"{id} is not a check of kube-bench's cis-1.12");
            var published = theirs[id];
            Assert.Equal(published.Section, section);
            Assert.True(published.Check.Scored == check.Scored, $"{id}: scored differs");
            Assert.True(published.Check.Type == check.Type, $"{id}: type differs");
        }
        // Sections 2, 3 and 5 keep kube-bench's tests exactly (sections 1 and 4 adapt some to the files Bulwark has).
        foreach (var (id, (_, check)) in ours.Where(o => o.Key[0] is '2' or '3' or '5'))
        {
            Assert.True(theirs[id].Check.UseMultipleValues == check.UseMultipleValues, $"{id}: use_multiple_values differs");
            Assert.Equal(Tests(theirs[id].Check), Tests(check));
        }
        foreach (var whole in new[] { "2", "3.", "5." })
        {
            Assert.Equal(theirs.Keys.Where(k => k.StartsWith(whole, StringComparison.Ordinal)).Order(StringComparer.Ordinal),
                ours.Keys.Where(k => k.StartsWith(whole, StringComparison.Ordinal)).Order(StringComparer.Ordinal));
        }
    }
}
