using System.Text.Json.Nodes;
using Bulwark.Pipeline;
using Json.Schema;
using Microsoft.Extensions.Time.Testing;
using Xunit;

namespace Bulwark.Tests.Airgap;

/// <summary>SBOMs validated against the official CycloneDX 1.5 JSON schema (with the SPDX and JSF schemas it references).</summary>
public sealed class SbomSchemaTests
{
    private static readonly Lazy<JsonSchema> Schema = new(() =>
    {
        foreach (var name in new[] { "cyclonedx-spdx.schema.json", "cyclonedx-jsf-0.82.schema.json" })
        {
            var referenced = JsonSchema.FromFile(RepoPaths.Fixture("schemas/" + name));
            SchemaRegistry.Global.Register(referenced);
        }
        return JsonSchema.FromFile(RepoPaths.Fixture("schemas/cyclonedx-bom-1.5.schema.json"));
    });

    internal static void AssertValid(string json)
    {
        var result = Schema.Value.Evaluate(JsonNode.Parse(json), new EvaluationOptions { OutputFormat = OutputFormat.List });
        var errors = (result.Details ?? []).Where(d => d.Errors is not null).SelectMany(d => d.Errors!.Select(e => $"{d.InstanceLocation}: {e.Value}")).ToList();
        Assert.True(result.IsValid, "CycloneDX 1.5 schema: " + string.Join("; ", errors));
    }

    [Fact]
    public void An_sbom_of_dpkg_and_apk_packages_is_valid_cyclonedx_1_5_and_the_schema_rejects_a_broken_one()
    {
        var os = OsRelease.Parse(TestImages.OsRelease);
        var packages = PackageDatabases.ParseDpkg(TestImages.DpkgStatus).Concat(PackageDatabases.ParseApk(TestImages.ApkInstalled)).ToList();
        Assert.Equal(["libc6", "bash", "libgcrypt20", "musl", "busybox"], packages.Select(p => p.Name));
        var json = SbomBuilder.ToJson(SbomBuilder.Describe("docker.io/library/x:1", "sha256:" + new string('a', 64), os, packages, "0.1.0", new FakeTimeProvider()));
        AssertValid(json);
        Assert.Contains("pkg:deb/debian/libgcrypt20@1.10.1-3?arch=amd64&epoch=1&distro=debian-12", json);
        var broken = json.Replace("\"specVersion\": \"1.5\"", "\"specVersion\": 15");
        Assert.False(Schema.Value.Evaluate(JsonNode.Parse(broken)).IsValid);
    }
}
