using Bulwark.Compliance.Evaluation;
using Bulwark.Compliance.Evidence;
using YamlDotNet.RepresentationModel;

namespace Bulwark.Tests.Compliance;

public sealed class CompareOpsTests
{
    [Theory]
    [InlineData("eq", "false", "false", true)]
    [InlineData("eq", "FALSE", "false", true)]
    [InlineData("eq", "Node", "node", false)]
    [InlineData("noteq", "true", "false", true)]
    [InlineData("noteq", "False", "false", false)]
    [InlineData("gt", "30", "29", true)]
    [InlineData("gt", "30", "30", false)]
    [InlineData("gte", "30", "30", true)]
    [InlineData("lt", "5", "10", true)]
    [InlineData("lte", "11", "10", false)]
    [InlineData("gte", "abc", "1", false)]
    [InlineData("has", "Node,RBAC", "RBAC", true)]
    [InlineData("has", "Node", "RBAC", false)]
    [InlineData("nothave", "Node,RBAC", "AlwaysAllow", true)]
    [InlineData("nothave", "AlwaysAllow", "AlwaysAllow", false)]
    [InlineData("regex", "300s", "^[0-9]+s$", true)]
    [InlineData("regex", "0", "^[1-9]", false)]
    [InlineData("valid_elements", "TLS_A,TLS_B", "TLS_A,TLS_B,TLS_C", true)]
    [InlineData("valid_elements", "TLS_A, TLS_D", "TLS_A,TLS_B", false)]
    [InlineData("valid_elements", "", "", true)]
    [InlineData("valid_elements", "", "TLS_A", false)]
    [InlineData("valid_elements", "TLS_A,", "TLS_A", true)]
    [InlineData("valid_elements", "TLS_A,,TLS_B", "TLS_A,TLS_B", false)]
    [InlineData("bitmask", "600", "644", true)]
    [InlineData("bitmask", "644", "644", true)]
    [InlineData("bitmask", "644", "600", false)]
    [InlineData("bitmask", "700", "644", false)]
    [InlineData("bitmask", "400", "600", true)]
    [InlineData("bitmask", "755", "700", false)]
    [InlineData("bitmask", "rw", "600", false)]
    public void Compare_ops_follow_kube_bench(string op, string actual, string expected, bool result) =>
        Assert.Equal(result, CompareOps.Evaluate(op, actual, expected));

    [Theory]
    [InlineData("kube-apiserver --anonymous-auth=false --x", "--anonymous-auth", "false")]
    [InlineData("permissions=600 owner=root:root", "permissions", "600")]
    [InlineData("readOnlyPort: 0", "readOnlyPort", "0")]
    [InlineData("kubelet --rotate-certificates --x=1", "--rotate-certificates", "true")]
    [InlineData("root:root", "root:root", "root:root")]
    public void Flag_values_are_extracted_like_kube_bench(string text, string flag, string value) =>
        Assert.Equal(value, CheckEvaluator.ExtractFlagValue(text, flag));

    [Fact]
    public void A_space_separated_value_is_read_only_when_the_test_compares_it()
    {
        Assert.Equal("300s", CheckEvaluator.ExtractFlagValue("kube-apiserver --request-timeout 300s --x=1", "--request-timeout", compares: true));
        Assert.Equal("true", CheckEvaluator.ExtractFlagValue("kube-apiserver --request-timeout 300s", "--request-timeout", compares: false));
        Assert.Equal("true", CheckEvaluator.ExtractFlagValue("kubelet --rotate-certificates --x=1", "--rotate-certificates", compares: true));
    }

    [Fact]
    public void JsonPath_reads_fields_indexes_wildcards_and_lists()
    {
        var doc = StructuredDocument.Parse("""
            a:
              b-c: {d: 1}
            plugins:
              - name: PodSecurity
                configuration: {defaults: {enforce: restricted}}
              - name: EventRateLimit
            list: [x, y]
            keys: [{name: k1, secret: c2VjcmV0}]
            """, "test.yaml");
        Assert.Equal("1", JsonPathQuery.Render(JsonPathQuery.Select(doc.Root, "{.a.b-c.d}")));
        Assert.Equal("PodSecurity EventRateLimit", JsonPathQuery.Render(JsonPathQuery.Select(doc.Root, "{.plugins[*].name}")));
        Assert.Equal("restricted", JsonPathQuery.Render(JsonPathQuery.Select(doc.Root, "{.plugins[0].configuration.defaults.enforce}")));
        Assert.Equal("x,y", JsonPathQuery.Render(JsonPathQuery.Select(doc.Root, "{.list}")));
        Assert.Empty(JsonPathQuery.Select(doc.Root, "{.plugins[5].name}"));
        var rendered = JsonPathQuery.Render(JsonPathQuery.Select(doc.Root, "{.keys}"));
        Assert.DoesNotContain("c2VjcmV0", rendered, StringComparison.Ordinal);
        Assert.Contains("(redacted)", rendered, StringComparison.Ordinal);
        Assert.Throws<FormatException>(() => JsonPathQuery.Select(new YamlMappingNode(), "{.a[?(@.x)]}"));
    }
}
