using System.Net;
using Bulwark.Crypto;
using Bulwark.Pki;
using Microsoft.Extensions.Time.Testing;

namespace Bulwark.Tests;

/// <summary>A clock set to a given instant, so certificates can be made that are already expired or close to expiry.</summary>
public static class FixedClock
{
    public static FakeTimeProvider DaysFromNow(double days) => new(DateTimeOffset.UtcNow.AddDays(days));
}

/// <summary>Server PKI options for tests: a node with a fixed name and address, one tls-san name and IP.</summary>
public static partial class TestPki
{
    public static readonly IPAddress NodeAddress = IPAddress.Parse("192.0.2.15");

    public static ServerPkiOptions Options(string dataDir, KeyAlgorithm algorithm = KeyAlgorithm.EcdsaP256, IReadOnlyList<string>? tlsSans = null,
        string? token = null) =>
        new(dataDir, algorithm, new NodeIdentity("node-1", [NodeAddress]), tlsSans ?? ["cluster.example.com", "198.51.100.7"],
            ["10.43.0.0/16"], "cluster.local", token, null);

    public static CryptoService Crypto { get; } = CryptoService.For(FipsMode.On);

    public static PkiResult Create(string dataDir, KeyAlgorithm algorithm = KeyAlgorithm.EcdsaP256, TimeProvider? clock = null) =>
        new ServerPki(Crypto, clock).Ensure(Options(dataDir, algorithm));
}
