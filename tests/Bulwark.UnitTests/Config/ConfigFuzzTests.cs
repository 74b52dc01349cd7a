using System.Text;
using Bulwark.Config;
using FsCheck;
using FsCheck.Fluent;

namespace Bulwark.Tests.Config;

/// <summary>
/// Generated bad input: whatever bytes arrive, loading never throws, and it either yields a config or
/// errors that each say where (file, with a line when there is one) and what.
/// </summary>
public sealed class ConfigFuzzTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    private static readonly string[] Fragments =
    [
        "token: x\n", "profile: cis\n", "profile: cis-9\n", "tls-san:\n  - a\n", "tls-san+: [b]\n", "etcd-snapshot-retention: five\n",
        "supervisor-port: 99999\n", "data-dir:\n", "{", "}", "[", "]", ": ", "- ", "&a ", "*a", "!!binary ", "\t", "  ", "\"", "'",
        "\n", "---\n", "...\n", "%YAML 1.2\n", "key: [1, [2]]\n", "k: {a: 1}\n", "debug: maybe\n", "node-name: UPPER\n", "\u0000", "\uFFFF", "é",
        "kube-apiserver-arg: --anonymous-auth\n", "cni: flannel\n", "write-kubeconfig-mode: 0999\n", "#comment\n", "token: a\ntoken: b\n",
    ];

    [Fact]
    public void Loading_generated_garbage_never_throws_and_every_error_is_located()
    {
        var texts = Gen.ListOf(Gen.Elements(Fragments)).Select(parts => string.Concat(parts));
        Prop.ForAll(texts.ToArbitrary(), text => CheckOne(Encoding.UTF8.GetBytes(text)))
            .Check(FsCheck.Config.QuickThrowOnFailure.WithMaxTest(1000));
    }

    [Fact]
    public void Loading_random_bytes_never_throws_and_every_error_is_located()
    {
        Prop.ForAll<byte[]>(bytes => CheckOne(bytes)).Check(FsCheck.Config.QuickThrowOnFailure.WithMaxTest(1000));
    }

    private bool CheckOne(byte[] bytes)
    {
        var file = _dir.Combine($"fuzz-{Guid.NewGuid():N}.yaml");
        File.WriteAllBytes(file, bytes);
        var result = ConfigLoader.Load(new ConfigRequest(ConfigRole.Server, file, new Dictionary<string, string>(), []));
        File.Delete(file);
        var errors = result.Errors.ToList();
        return (result.Config is not null) == (errors.Count == 0)
            && errors.All(e => e.Where is not null && e.Where.StartsWith(file, StringComparison.Ordinal) && e.Message.Length > 0);
    }
}
