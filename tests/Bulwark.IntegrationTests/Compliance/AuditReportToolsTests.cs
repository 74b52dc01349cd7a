using System.Buffers.Binary;
using System.Diagnostics;
using System.IO.Compression;
using System.Text.Json.Nodes;
using Bulwark.Compliance.Reports;
using Bulwark.Processes;
using Json.Schema;

namespace Bulwark.Tests.Compliance;

/// <summary>
/// The reports checked by the real tools auditors and CI use: OpenSCAP validates the XCCDF, xmllint validates the JUnit
/// against the Jenkins xunit junit-10.xsd, JsonSchema.Net validates the SARIF against the OASIS SARIF 2.1.0 schema,
/// headless Chromium renders the HTML.
/// </summary>
public sealed class AuditReportToolsTests : IAsyncLifetime
{
    private RenderedNode _node = null!;
    private readonly TempDirectory _out = new("bulwark-report-tools");

    /// <summary>Reports of a node rendered by Bulwark itself (real PKI and renderer under CIS); no etcd runs, so its checks are not applicable.</summary>
    public async ValueTask InitializeAsync() =>
        _node = await RenderedNode.CreateAsync(startEtcd: false, cancellationToken: TestContext.Current.CancellationToken);

    public async ValueTask DisposeAsync()
    {
        await _node.DisposeAsync();
        _out.Dispose();
    }

    private const string ApiServerManifest = "agent/pod-manifests/kube-apiserver.yaml";

    private async Task<string> WriteAsync(string format, string file)
    {
        var path = _out.Combine(file);
        var r = await CliRunner.RunAsync(["audit", .. _node.AuditArgs, "--output", format, "--output-file", path]);
        Assert.True(r.ExitCode is 0 or 1, r.Error);
        return path;
    }

    [Fact]
    public async Task Real_oscap_validates_the_xccdf_of_a_clean_and_of_a_tampered_node()
    {
        var oscap = ProgramLocator.Require("oscap", "Install openscap-scanner (make deps).");
        var clean = await WriteAsync("xccdf", "clean.xml");
        _node.Replace(ApiServerManifest, "--anonymous-auth=false", "--anonymous-auth=true");
        File.Delete(_node.Config.Layout.PodSecurityConfig);
        var tampered = await WriteAsync("xccdf", "tampered.xml");
        foreach (var file in new[] { clean, tampered })
        {
            var result = await ProcessRunner.RunAsync(new ProcessSpec(oscap, ["xccdf", "validate", file]), TestContext.Current.CancellationToken);
            Assert.True(result.ExitCode == 0, $"oscap xccdf validate {file}: {result.StandardOutput}{result.StandardError}");
        }
        var text = File.ReadAllText(tampered);
        Assert.Contains("<xccdf:result>fail</xccdf:result>", text, StringComparison.Ordinal);
        Assert.Contains("<xccdf:result>notchecked</xccdf:result>", text, StringComparison.Ordinal);
        Assert.Contains("<xccdf:result>notapplicable</xccdf:result>", text, StringComparison.Ordinal);
        Assert.Contains($"idref=\"{XccdfReport.Platform}\"", text, StringComparison.Ordinal);
    }

    private async Task<ProcessResult> XmllintAsync(string schema, string file) =>
        await ProcessRunner.RunAsync(new ProcessSpec(ProgramLocator.Require("xmllint", "Install libxml2-utils (make deps)."),
            ["--noout", "--nonet", "--schema", RepoPaths.Fixture("schemas/" + schema), file]), TestContext.Current.CancellationToken);

    [Fact]
    public async Task Real_xmllint_validates_the_junit_of_a_clean_and_of_a_tampered_node_against_the_jenkins_junit_10_xsd()
    {
        var clean = await WriteAsync("junit", "clean-junit.xml");
        _node.Replace(ApiServerManifest, "--anonymous-auth=false", "--anonymous-auth=true");
        var tampered = await WriteAsync("junit", "tampered-junit.xml");
        foreach (var file in new[] { clean, tampered })
        {
            var result = await XmllintAsync("jenkins-junit-10.xsd", file);
            Assert.True(result.ExitCode == 0, $"xmllint --schema jenkins-junit-10.xsd {file}: {result.StandardError}");
        }
        var text = File.ReadAllText(tampered);
        Assert.Contains("<failure type=\"WARN\"", text, StringComparison.Ordinal);
        Assert.Contains("<skipped type=\"MANUAL\"", text, StringComparison.Ordinal);
        // The validator can fail: the attribute the issue found on <testsuites> is refused.
        var broken = _out.Combine("broken-junit.xml");
        File.WriteAllText(broken, text.Replace("<testsuites ", "<testsuites skipped=\"1\" ", StringComparison.Ordinal));
        var refused = await XmllintAsync("jenkins-junit-10.xsd", broken);
        Assert.NotEqual(0, refused.ExitCode);
        Assert.Contains("skipped", refused.StandardError, StringComparison.Ordinal);
    }

    /// <summary>
    /// The OASIS schema declares draft-04, which JsonSchema.Net does not implement; every keyword it uses (type, $ref,
    /// items, required, enum, minimum, pattern, anyOf, oneOf…) means the same in draft-07, so it is read as draft-07
    /// (only $schema and id → $id change, in memory).
    /// </summary>
    private static JsonSchema SarifSchema()
    {
        var document = JsonNode.Parse(File.ReadAllText(RepoPaths.Fixture("schemas/sarif-schema-2.1.0.json")))!.AsObject();
        Assert.Equal("http://json-schema.org/draft-04/schema#", (string?)document["$schema"]);
        document["$schema"] = "http://json-schema.org/draft-07/schema#";
        var id = (string)document["id"]!;
        document.Remove("id");
        document["$id"] = id;
        return JsonSchema.FromText(document.ToJsonString());
    }

    [Fact]
    public async Task The_sarif_is_valid_against_the_oasis_sarif_2_1_0_schema_with_the_tool_uri_and_the_line_of_a_config_field()
    {
        var schema = SarifSchema();
        _node.Replace(ApiServerManifest, "--anonymous-auth=false", "--anonymous-auth=true");
        var file = await WriteAsync("sarif", "report.sarif");
        var sarif = JsonNode.Parse(File.ReadAllText(file))!;
        var result = schema.Evaluate(sarif, new EvaluationOptions { OutputFormat = OutputFormat.List });
        var errors = (result.Details ?? []).Where(d => d.Errors is not null).SelectMany(d => d.Errors!.Select(e => $"{d.InstanceLocation}: {e.Value}"));
        Assert.True(result.IsValid, "SARIF 2.1.0 schema: " + string.Join("; ", errors));

        var run = sarif["runs"]![0]!;
        Assert.Equal(SarifReport.InformationUri, (string?)run["tool"]!["driver"]!["informationUri"]);
        // The kubelet's anonymous-auth is read from its config file: the result points at the line of that field.
        var kubelet = run["results"]!.AsArray().Single(r => (string?)r!["ruleId"] == "cis-1.12/4.2.1")!;
        var located = kubelet["locations"]!.AsArray().Select(l => l!["physicalLocation"]!).Single(p => p["region"] is not null);
        var path = ((string)located["artifactLocation"]!["uri"]!)["file://".Length..];
        var line = (int)located["region"]!["startLine"]!;
        Assert.Contains("enabled: false", File.ReadAllLines(path)[line - 1], StringComparison.Ordinal);

        // The validator can fail: a result without its message is refused.
        var broken = JsonNode.Parse(File.ReadAllText(file))!;
        broken["runs"]![0]!["results"]![0]!.AsObject().Remove("message");
        Assert.False(schema.Evaluate(broken).IsValid);
    }

    [Fact]
    public async Task Real_oscap_reads_the_embedded_test_result()
    {
        var oscap = ProgramLocator.Require("oscap", "Install openscap-scanner (make deps).");
        var file = await WriteAsync("xccdf", "report.xml");
        // oscap renders a report from the TestResult only if it can parse every rule-result it references.
        var html = _out.Combine("oscap-report.html");
        var result = await ProcessRunner.RunAsync(new ProcessSpec(oscap, ["xccdf", "generate", "report", "--output", html, file]), TestContext.Current.CancellationToken);
        Assert.True(result.ExitCode == 0, result.StandardError);
        var text = File.ReadAllText(html);
        Assert.Contains(Environment.MachineName, text, StringComparison.Ordinal);
        Assert.Contains("API server refuses anonymous requests", text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Headless_chromium_renders_the_html_report_with_its_totals()
    {
        _node.Replace(ApiServerManifest, "--anonymous-auth=false", "--anonymous-auth=true");
        var html = await WriteAsync("html", "report.html");
        var png = _out.Combine("report.png");
        var profile = _out.Combine("chromium-profile");
        string[] common = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run", $"--user-data-dir={profile}"];
        var chromium = ProgramLocator.Require("chromium", "Install chromium (make deps).");
        var shot = await ProcessRunner.RunAsync(new ProcessSpec(chromium, [.. common, $"--screenshot={png}", "--window-size=1280,2000", "file://" + html]) { Timeout = TimeSpan.FromMinutes(2) },
            TestContext.Current.CancellationToken);
        Assert.True(File.Exists(png), $"no screenshot: {shot.StandardError}");
        var image = Png.Decode(File.ReadAllBytes(png));
        Assert.Equal((1280, 2000), (image.Width, image.Height));
        // Not blank: many colours, and a good share of the page is not the background colour.
        Assert.True(image.DistinctColours > 50, $"{image.DistinctColours} colours");
        Assert.True(image.ShareDifferentFrom(image.MostCommonColour) > 0.2, "the page is mostly one colour");
        Assert.True(image.CountNear(0xcf, 0x22, 0x2e) > 100, "the red of failures is on the page");

        var dom = await ProcessRunner.RunAsync(new ProcessSpec(chromium, [.. common, "--dump-dom", "file://" + html]) { Timeout = TimeSpan.FromMinutes(2) },
            TestContext.Current.CancellationToken);
        var page = dom.StandardOutput;
        var total = System.Text.RegularExpressions.Regex.Match(page, "<div id=\"totals\" class=\"totals\"><div class=\"big\"><span class=\"n\">(\\d+)</span><span>checks</span>");
        Assert.True(total.Success, "no totals block in the rendered page");
        Assert.True(int.Parse(total.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture) > 100, total.Value);
        // anonymous-auth=true fails (the clean fixture has no failure).
        var failed = System.Text.RegularExpressions.Regex.Match(page, "<span class=\"n\">(\\d+)</span><span>Fail</span>");
        Assert.True(failed.Success && int.Parse(failed.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture) >= 1, failed.Value);
        // The filter script ran in the browser and counted the rows it shows: all of them.
        Assert.Contains($"{total.Groups[1].Value} of {total.Groups[1].Value} shown", page, StringComparison.Ordinal);
    }

    /// <summary>A PNG decoder for Chromium's screenshots: 8-bit RGB or RGBA, not interlaced.</summary>
    private sealed class Png
    {
        private readonly byte[] _pixels;
        private readonly int _channels;

        private Png(int width, int height, int channels, byte[] pixels) => (Width, Height, _channels, _pixels) = (width, height, channels, pixels);

        public int Width { get; }
        public int Height { get; }

        public static Png Decode(byte[] data)
        {
            Assert.True(data.AsSpan(0, 8).SequenceEqual(new byte[] { 137, 80, 78, 71, 13, 10, 26, 10 }), "not a PNG");
            int width = 0, height = 0, channels = 0;
            using var idat = new MemoryStream();
            for (var pos = 8; pos < data.Length;)
            {
                var length = BinaryPrimitives.ReadInt32BigEndian(data.AsSpan(pos));
                var type = System.Text.Encoding.ASCII.GetString(data, pos + 4, 4);
                var body = data.AsSpan(pos + 8, length);
                if (type == "IHDR")
                {
                    width = BinaryPrimitives.ReadInt32BigEndian(body);
                    height = BinaryPrimitives.ReadInt32BigEndian(body[4..]);
                    Assert.Equal(8, body[8]);
                    channels = body[9] switch { 2 => 3, 6 => 4, var c => throw new NotSupportedException($"PNG colour type {c}") };
                    Assert.Equal(0, body[12]);
                }
                else if (type == "IDAT")
                {
                    idat.Write(body);
                }
                pos += 12 + length;
            }
            idat.Position = 0;
            using var inflated = new MemoryStream();
            using (var z = new ZLibStream(idat, CompressionMode.Decompress))
            {
                z.CopyTo(inflated);
            }
            var raw = inflated.ToArray();
            var stride = width * channels;
            var pixels = new byte[height * stride];
            for (var y = 0; y < height; y++)
            {
                var filter = raw[y * (stride + 1)];
                for (var x = 0; x < stride; x++)
                {
                    int a = x >= channels ? pixels[y * stride + x - channels] : 0;
                    int b = y > 0 ? pixels[(y - 1) * stride + x] : 0;
                    int c = x >= channels && y > 0 ? pixels[(y - 1) * stride + x - channels] : 0;
                    int v = raw[y * (stride + 1) + 1 + x];
                    pixels[y * stride + x] = (byte)(filter switch
                    {
                        0 => v,
                        1 => v + a,
                        2 => v + b,
                        3 => v + ((a + b) >> 1),
                        4 => v + Paeth(a, b, c),
                        _ => throw new InvalidDataException($"PNG filter {filter}"),
                    });
                }
            }
            return new Png(width, height, channels, pixels);
        }

        private static int Paeth(int a, int b, int c)
        {
            int p = a + b - c, pa = Math.Abs(p - a), pb = Math.Abs(p - b), pc = Math.Abs(p - c);
            return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
        }

        private IEnumerable<int> Colours()
        {
            for (var i = 0; i < _pixels.Length; i += _channels)
            {
                yield return (_pixels[i] << 16) | (_pixels[i + 1] << 8) | _pixels[i + 2];
            }
        }

        public int DistinctColours => Colours().Distinct().Count();

        public int MostCommonColour => Colours().GroupBy(c => c).MaxBy(g => g.Count())!.Key;

        public double ShareDifferentFrom(int colour) => Colours().Count(c => c != colour) / (double)(Width * Height);

        public int CountNear(int r, int g, int b) => Colours().Count(c =>
            Math.Abs(((c >> 16) & 0xff) - r) < 24 && Math.Abs(((c >> 8) & 0xff) - g) < 24 && Math.Abs((c & 0xff) - b) < 24);
    }
}
