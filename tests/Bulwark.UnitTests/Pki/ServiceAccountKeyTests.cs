using System.Security.Cryptography;
using Bulwark.Crypto;
using Bulwark.FileSystem;
using Bulwark.Pki;
using YamlDotNet.RepresentationModel;

namespace Bulwark.Tests.Pki;

/// <summary>
/// The service-account key files against what v1.32's readers accept (policies/kubernetes/v1.32/key-files.yaml, from
/// client-go util/keyutil). kube-apiserver cannot run here: the test stops at the file and classifies its PEM form.
/// </summary>
public sealed class ServiceAccountKeyTests : IDisposable
{
    private readonly TempDirectory _dir = new("bulwark-sakey");

    public void Dispose() => _dir.Dispose();

    private static IReadOnlyList<string> Accepted(string component, string flag)
    {
        var text = File.ReadAllText(Path.Combine(RepoPaths.Root, "policies", "kubernetes", "v1.32", "key-files.yaml"));
        var yaml = new YamlStream();
        yaml.Load(new StringReader(text));
        var root = (YamlMappingNode)yaml.Documents[0].RootNode;
        var flags = (YamlMappingNode)root[component];
        return ((YamlSequenceNode)flags[flag]).Children.Select(c => ((YamlScalarNode)c).Value!).ToList();
    }

    /// <summary>The form of a PEM private or public key, in key-files.yaml's vocabulary.</summary>
    public static string FormOf(string pem)
    {
        PemFields fields = PemEncoding.Find(pem);
        var label = pem[fields.Label];
        var der = Convert.FromBase64String(pem[fields.Base64Data]);
        switch (label)
        {
            case "EC PRIVATE KEY":
                return "ec-sec1";
            case "RSA PRIVATE KEY":
                return "rsa-pkcs1";
            case "PUBLIC KEY":
                return "public-pkix";
            case "PRIVATE KEY":
                using (var ec = ECDsa.Create())
                {
                    try
                    {
                        ec.ImportPkcs8PrivateKey(der, out _);
                        return "ec-pkcs8";
                    }
                    catch (CryptographicException)
                    {
                        return "rsa-pkcs8";
                    }
                }
            default:
                return "unknown: " + label;
        }
    }

    [Theory]
    [InlineData(KeyAlgorithm.EcdsaP256)]
    [InlineData(KeyAlgorithm.EcdsaP384)]
    [InlineData(KeyAlgorithm.Rsa3072)]
    public void Service_account_keys_are_in_a_form_kube_apiserver_and_the_controller_manager_v1_32_read_as_they_cannot_run_here(KeyAlgorithm algorithm)
    {
        var paths = TestPki.Create(_dir.Path, algorithm).Paths;

        foreach (var file in new[] { paths.ServiceKey, paths.ServiceCurrentKey })
        {
            var form = FormOf(File.ReadAllText(file));
            Assert.Contains(form, Accepted("kube-apiserver", "service-account-key-file"));
            Assert.Contains(form, Accepted("kube-apiserver", "service-account-signing-key-file"));
            Assert.Contains(form, Accepted("kube-controller-manager", "service-account-private-key-file"));
            Assert.Equal(AtomicFile.Private, File.GetUnixFileMode(file));
        }
    }

    [Fact]
    public void An_ec_service_account_key_written_as_pkcs8_by_an_older_bulwark_is_rewritten_as_sec1_keeping_the_key()
    {
        var paths = TestPki.Create(_dir.Path).Paths;
        using var original = ECDsa.Create();
        original.ImportFromPem(File.ReadAllText(paths.ServiceKey));
        var pkcs8 = original.ExportPkcs8PrivateKeyPem() + "\n";
        File.WriteAllText(paths.ServiceKey, pkcs8);
        File.WriteAllText(paths.ServiceCurrentKey, pkcs8);
        Assert.Equal("ec-pkcs8", FormOf(pkcs8));

        var result = TestPki.Create(_dir.Path);

        foreach (var file in new[] { paths.ServiceKey, paths.ServiceCurrentKey })
        {
            Assert.Equal("ec-sec1", FormOf(File.ReadAllText(file)));
            using var rewritten = ECDsa.Create();
            rewritten.ImportFromPem(File.ReadAllText(file));
            Assert.Equal(original.ExportSubjectPublicKeyInfo(), rewritten.ExportSubjectPublicKeyInfo());
            Assert.Equal(AtomicFile.Private, File.GetUnixFileMode(file));
            Assert.Contains(result.Changes, c => c.Path == file && c.Action == PkiAction.Renewed);
        }
    }
}
