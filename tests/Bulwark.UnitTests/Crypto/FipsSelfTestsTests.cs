using Bulwark.Crypto;

namespace Bulwark.Tests.Crypto;

public sealed class FipsSelfTestsTests
{
    private static readonly CryptoService Crypto = CryptoService.For(FipsMode.On);

    [Fact]
    public void The_built_in_self_tests_pass_and_cover_the_required_algorithms()
    {
        var report = FipsSelfTests.Run(Crypto);
        Assert.True(report.Passed, string.Join("; ", report.Failures.Select(f => f.Name + ": " + f.Detail)));
        var names = string.Join("\n", report.Results.Select(r => r.Name));
        foreach (var required in new[] { "SHA-256", "SHA-384", "HMAC-SHA-256 (RFC 4231", "AES-256-GCM", "PBKDF2-HMAC-SHA-256", "ECDSA P-256 pairwise", "RSA-3072 PKCS#1 v1.5 SHA-256 signature" })
        {
            Assert.Contains(required, names, StringComparison.Ordinal);
        }
        Assert.All(report.Results, r => Assert.Equal("ok", r.Detail));
    }

    public static TheoryData<int> KnownAnswerIndexes()
    {
        var data = new TheoryData<int>();
        for (var i = 0; i < SelfTestSuite.BuiltIn.KnownAnswerTests.Count; i++)
        {
            data.Add(i);
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(KnownAnswerIndexes))]
    public void A_corrupted_vector_fails_its_test_and_only_that_one(int index)
    {
        var suite = SelfTestSuite.BuiltIn;
        var kats = suite.KnownAnswerTests.ToList();
        var expected = (byte[])kats[index].Expected.Clone();
        expected[^1] ^= 0x01;
        kats[index] = kats[index] with { Expected = expected };

        var report = FipsSelfTests.Run(Crypto, suite with { KnownAnswerTests = kats, PairwiseTests = [] });

        var failed = Assert.Single(report.Failures);
        Assert.Equal(kats[index].Name, failed.Name);
        Assert.StartsWith("expected ", failed.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public void A_corrupted_input_fails_too()
    {
        var suite = SelfTestSuite.BuiltIn;
        var kats = suite.KnownAnswerTests.Select(k => k.Algorithm == "AES-GCM" ? k with { Key = k.Key.Select(b => (byte)(b ^ 0x80)).ToArray() } : k).ToList();
        var report = FipsSelfTests.Run(Crypto, suite with { KnownAnswerTests = kats, PairwiseTests = [] });
        Assert.Equal(kats.Count(k => k.Algorithm == "AES-GCM"), report.Failures.Count());
        Assert.All(report.Failures, f => Assert.Contains("AES-256-GCM", f.Name, StringComparison.Ordinal));
    }

    [Fact]
    public void Startup_refuses_to_start_and_names_the_failed_test()
    {
        var suite = SelfTestSuite.BuiltIn;
        var kats = suite.KnownAnswerTests.ToList();
        kats[1] = kats[1] with { Expected = new byte[kats[1].Expected.Length] };
        var e = Assert.Throws<FipsStartupException>(() => CryptoStartup.Start(FipsMode.On, OpenSslStatus.Read(), suite with { KnownAnswerTests = kats }));
        Assert.Contains("self-test failed", e.Message, StringComparison.Ordinal);
        Assert.Contains(kats[1].Name, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Startup_in_on_mode_runs_the_self_tests()
    {
        var started = CryptoStartup.Start(FipsMode.On, OpenSslStatus.Read(), SelfTestSuite.BuiltIn);
        Assert.NotNull(started.SelfTests);
        Assert.True(started.SelfTests.Passed);
        Assert.Equal(FipsMode.On, started.Service.Mode);
        Assert.Null(CryptoStartup.Start(FipsMode.Off, OpenSslStatus.Read(), SelfTestSuite.BuiltIn).SelfTests);
    }

    [Fact]
    public void Strict_mode_refuses_to_start_on_this_debian_host_without_the_fips_provider()
    {
        var status = OpenSslStatus.Read();
        Assert.False(status.FipsProviderActive);
        var e = Assert.Throws<FipsStartupException>(() => CryptoStartup.Start(FipsMode.Strict, status, SelfTestSuite.BuiltIn));
        Assert.Contains("requires the OpenSSL FIPS provider", e.Message, StringComparison.Ordinal);
        Assert.Contains(status.LibraryVersion, e.Message, StringComparison.Ordinal);
    }
}
