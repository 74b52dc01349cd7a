namespace Bulwark.Tests.Kube;

/// <summary>
/// Under Native AOT, anything in src/ that reaches KubernetesClient.Aot's KubernetesJson (its client, even its
/// KubernetesClientConfiguration) links its source-generated context and with it ~78,000 API types: 15 MiB more binary
/// and type data rehydrated at every start. Bulwark serializes through its own KubeJsonContext; this keeps it so. Pods and
/// Nodes are read through projections: V1PodSpec's and V1NodeStatus's closures alone were ~12,000 types.
/// </summary>
public sealed class ApiTypesLinkedTests
{
    [Fact]
    public void The_published_binary_does_not_link_KubernetesClient_Aots_context_of_every_API_type()
    {
        var binary = File.ReadAllBytes(BulwarkBinary.Path);
        Assert.Equal(-1, binary.AsSpan().IndexOf("SourceGenerationContext"u8));
    }

    [Theory]
    [InlineData("V1PodSpec")]
    [InlineData("V1NodeStatus")]
    [InlineData("V1ServiceSpec")]
    public void The_published_binary_does_not_link_the_large_model_closures_Bulwark_reads_through_projections(string model)
    {
        var binary = File.ReadAllBytes(BulwarkBinary.Path);
        Assert.Equal(-1, binary.AsSpan().IndexOf(System.Text.Encoding.ASCII.GetBytes(model)));
    }
}
