using Bulwark.Config;
using Bulwark.ControlPlane;

namespace Bulwark.Tests.ControlPlane;

/// <summary>A node in a temp folder: &lt;tmp&gt;/etc/config.yaml (so &lt;etc&gt; is &lt;tmp&gt;/etc) and &lt;tmp&gt;/data.</summary>
public sealed class ControlPlaneFixture : IDisposable
{
    public TempDirectory Dir { get; } = new("bulwark-cp");

    public string EtcDir => Dir.Combine("etc");
    public string DataDir => Dir.Combine("data");

    /// <summary>Loads config the way the CLI does (a real file through the loader), with data-dir and node identity set.</summary>
    public EffectiveConfig Config(string yaml = "")
    {
        var file = Dir.Write("etc/config.yaml", $"""
            data-dir: {DataDir}
            node-name: node-1
            node-ip: 10.0.0.5
            {yaml}
            """);
        var result = ConfigLoader.Load(new ConfigRequest(ConfigRole.Server, file, new Dictionary<string, string>(), []));
        Assert.True(result.Config is not null, string.Join("\n", result.Errors));
        return result.Config!;
    }

    public Task<RenderResult> RenderAsync(string yaml = "") => RenderAsync(Config(yaml));

    public Task<RenderResult> RenderAsync(EffectiveConfig config) =>
        new ControlPlaneRenderer().RenderAsync(config, ControlPlaneRenderer.EtcDirectory(config), TestContext.Current.CancellationToken);

    public void Dispose() => Dir.Dispose();
}
