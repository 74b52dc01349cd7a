using System.Net;
using Bulwark.Cni;

namespace Bulwark.Tests.Cni;

public sealed class CniNetworkValidatorTests
{
    private static readonly CniNetworkValidator Validator = new(CniSpecContract.BuiltIn.Value, ["/usr/lib/cni"],
        [IPNetwork.Parse("10.42.0.0/16")], [IPNetwork.Parse("10.43.0.0/16")]);

    private static List<CniVerifyStep> Validate(string json, out List<string> absent) =>
        Validator.Validate(CniNetwork.Parse(json, "10-test.conflist"), primary: true, out absent);

    private static string Bridge(string subnets) =>
        $$$"""{"cniVersion":"1.0.0","name":"n","plugins":[{"type":"bridge","ipam":{"type":"host-local","ranges":[{{{subnets}}}]}},{"type":"portmap","capabilities":{"portMappings":true}}]}""";

    [Fact]
    public void A_good_bridge_conflist_passes()
    {
        var steps = Validate(Bridge("""[{"subnet":"10.42.7.0/24"}]"""), out var absent);
        Assert.Empty(absent);
        Assert.DoesNotContain(steps, s => s.Status is CniStepStatus.Failed or CniStepStatus.NotRun);
    }

    [Theory]
    [InlineData("""{"cniVersion":"9.9.9","name":"n","plugins":[{"type":"bridge"}]}""", "cniVersion \"9.9.9\" is not one the installed plugins speak", "set \"cniVersion\": \"1.0.0\"")]
    [InlineData("""{"cniVersion":"1.0.0","name":"bad name!","plugins":[{"type":"bridge"}]}""", "network name \"bad name!\"", null)]
    [InlineData("""{"cniVersion":"1.0.0","name":"n","plugins":[]}""", "the plugin chain is empty", null)]
    [InlineData("""{"cniVersion":"1.0.0","name":"n","plugins":[{"ipam":{}}]}""", "plugins[0] has no \"type\"", null)]
    [InlineData("""{"cniVersion":"1.0.0","name":"n","plugins":[{"type":"bridge","ipam":{"type":"host-local","ranges":[[{"subnet":"10.42.1.0/24"}],[{"subnet":"10.42.1.128/25"}]]}}]}""", "IPAM range 10.42.1.0/24 overlaps 10.42.1.128/25", null)]
    [InlineData("""{"cniVersion":"1.0.0","name":"n","plugins":[{"type":"bridge","ipam":{"type":"host-local","subnet":"192.168.5.0/24"}}]}""", "outside cluster-cidr 10.42.0.0/16", null)]
    [InlineData("""{"cniVersion":"1.0.0","name":"n","plugins":[{"type":"bridge","ipam":{"type":"host-local","subnet":"10.43.0.0/24"}}]}""", "overlaps the service CIDR 10.43.0.0/16", null)]
    [InlineData("""{"cniVersion":"1.0.0","name":"n","plugins":[{"type":"multus"}]}""", "multus has neither \"delegates\" nor \"clusterNetwork\"", null)]
    public void Broken_configs_fail_with_a_clear_message(string json, string message, string? fix)
    {
        var steps = Validate(json, out _);
        var failed = Assert.Single(steps, s => s.Status == CniStepStatus.Failed && s.Detail.Contains(message, StringComparison.Ordinal));
        Assert.StartsWith("10-test.conflist", failed.Detail);
        Assert.NotNull(failed.Fix);
        if (fix is not null)
        {
            Assert.Equal(fix, failed.Fix);
        }
    }

    [Theory]
    [InlineData("calico", "calico-ipam")]
    [InlineData("cilium-cni", null)]
    [InlineData("flannel", null)]
    public void Absent_plugins_are_reported_as_not_run_never_passed(string type, string? ipam)
    {
        var ipamJson = ipam is null ? "" : ",\"ipam\":{\"type\":\"" + ipam + "\"}";
        var plugin = "{\"type\":\"" + type + "\"" + ipamJson + "}";
        var steps = Validate("""{"cniVersion":"0.3.1","name":"k8s-pod-network","plugins":[""" + plugin + """,{"type":"portmap","capabilities":{"portMappings":true}}]}""", out var absent);
        Assert.Equal(ipam is null ? [type] : [type, ipam], absent);
        var chain = Assert.Single(steps, s => s.Step == "plugin chain");
        Assert.Equal(CniStepStatus.NotRun, chain.Status);
        Assert.Contains($"not run: plugin absent ({type}", chain.Detail);
    }

    [Fact]
    public void Unknown_capabilities_are_warned_about()
    {
        var steps = Validate("""{"cniVersion":"1.0.0","name":"n","plugins":[{"type":"portmap","capabilities":{"portMapings":true}}]}""", out _);
        Assert.Contains(steps, s => s.Status == CniStepStatus.Warning && s.Detail.Contains("\"portMapings\""));
    }

    [Fact]
    public void Invalid_json_names_the_line()
    {
        var e = Assert.Throws<CniConfigException>(() => CniNetwork.Parse("{\n\"cniVersion\": \"1.0.0\",\n\"name\": }", "x.conflist"));
        Assert.StartsWith("x.conflist:3: not valid JSON", e.Message);
    }
}
