using System.Diagnostics;
using System.Globalization;
using Bulwark.Crypto;
using Bulwark.Pki;
using Bulwark.Processes;

namespace Bulwark.Benchmarks;

/// <summary>PKI generation, certificate issuance and sealing, each next to openssl doing the same work in the same run.</summary>
public static class CryptoBenchmarks
{
    private static readonly CryptoService Crypto = CryptoService.For(FipsMode.On);

    public static readonly Benchmark PkiGeneration = new("pki", "fresh server PKI (5 CAs, 11 leaves, service key, token) vs. the openssl CLI making the same 16 certificates", async output =>
    {
        var root = Directory.CreateTempSubdirectory("bulwark-bench-pki-");
        try
        {
            Options(Path.Combine(root.FullName, "warmup")).Apply();
            const int rounds = 5;
            var watch = Stopwatch.StartNew();
            for (var i = 0; i < rounds; i++)
            {
                Options(Path.Combine(root.FullName, $"bulwark-{i}")).Apply();
            }
            var bulwark = watch.Elapsed.TotalMilliseconds / rounds;

            watch.Restart();
            for (var i = 0; i < rounds; i++)
            {
                await OpenSslPki(Path.Combine(root.FullName, $"openssl-{i}"));
            }
            var openssl = watch.Elapsed.TotalMilliseconds / rounds;
            output.WriteLine($"   bulwark PKI (ecdsa-p256): {bulwark:0.0} ms; openssl CLI, same 16 certs: {openssl:0.0} ms; ratio {bulwark / openssl:0.00}x (lower is faster)");

            watch.Restart();
            Options(Path.Combine(root.FullName, "rsa"), KeyAlgorithm.Rsa3072).Apply();
            output.WriteLine($"   bulwark PKI (rsa-3072): {watch.Elapsed.TotalMilliseconds:0} ms, {watch.Elapsed.TotalMilliseconds / bulwark:0.0}x the ecdsa-p256 time (RSA key generation dominates)");
        }
        finally
        {
            root.Delete(true);
        }
    });

    public static readonly Benchmark Issuance = new("cert-issuance", "certificates issued per second (new P-256 key + signature) vs. openssl speed ecdsap256 signs per second", async output =>
    {
        var issuer = new CertificateIssuer(Crypto, TimeProvider.System);
        using var ca = issuer.CreateCa("bench-ca", KeyAlgorithm.EcdsaP256);
        var profile = new CertificateProfile("bench", [], CertificateUsage.Client, SubjectAlternativeNames.None);
        for (var i = 0; i < 50; i++)
        {
            issuer.Issue(ca, profile, KeyAlgorithm.EcdsaP256).Dispose();
        }
        var count = 0;
        var watch = Stopwatch.StartNew();
        while (watch.Elapsed < TimeSpan.FromSeconds(2))
        {
            issuer.Issue(ca, profile, KeyAlgorithm.EcdsaP256).Dispose();
            count++;
        }
        var certsPerSecond = count / watch.Elapsed.TotalSeconds;
        var speed = await ProcessRunner.RunCheckedAsync(new ProcessSpec("openssl", ["speed", "-mr", "-seconds", "2", "ecdsap256"]) { Timeout = TimeSpan.FromMinutes(1) });
        // OpenSSL 3 machine-readable line: +F4:<index>:<bits>:<signs per second>:<verifies per second>
        var line = speed.StandardOutput.Split('\n').First(l => l.StartsWith("+F4:", StringComparison.Ordinal));
        var signsPerSecond = double.Parse(line.Split(':')[3], CultureInfo.InvariantCulture);
        output.WriteLine($"   bulwark: {certsPerSecond:0} certs/s; openssl speed ecdsap256: {signsPerSecond:0} signs/s; ratio {certsPerSecond / signsPerSecond:0.000} " +
            "(a certificate is a key generation, a signature and DER encoding, so well below 1 is expected)");
    });

    public static readonly Benchmark Seal = new("seal", "sealing bootstrap data (PBKDF2-HMAC-SHA-256 600,000 iterations + AES-256-GCM) vs. openssl kdf PBKDF2 with the same iterations", async output =>
    {
        var sealer = new TokenSealer(Crypto);
        var data = new byte[64 * 1024];
        sealer.Seal(data, "secret");
        const int rounds = 5;
        var watch = Stopwatch.StartNew();
        for (var i = 0; i < rounds; i++)
        {
            sealer.Seal(data, "secret");
        }
        var seal = watch.Elapsed.TotalMilliseconds / rounds;
        watch.Restart();
        for (var i = 0; i < rounds; i++)
        {
            await ProcessRunner.RunCheckedAsync(new ProcessSpec("openssl",
                ["kdf", "-keylen", "32", "-kdfopt", "digest:SHA256", "-kdfopt", "pass:secret", "-kdfopt", "salt:0123456789abcdef", "-kdfopt", "iter:600000", "PBKDF2"]));
        }
        var kdf = watch.Elapsed.TotalMilliseconds / rounds;
        output.WriteLine($"   bulwark seal (64 KiB): {seal:0.0} ms; openssl kdf PBKDF2 (process included): {kdf:0.0} ms; ratio {seal / kdf:0.00}x");
    });

    private sealed record Run(ServerPkiOptions Options)
    {
        public void Apply() => new ServerPki(Crypto).Ensure(Options);
    }

    private static Run Options(string dataDir, KeyAlgorithm algorithm = KeyAlgorithm.EcdsaP256) => new(new ServerPkiOptions(dataDir, algorithm,
        new NodeIdentity("bench-node", [System.Net.IPAddress.Parse("192.0.2.15")]), ["cluster.example.com"], ["10.43.0.0/16"], "cluster.local", null, null));

    /// <summary>The same CAs and leaves made with the openssl CLI, as a shell-script PKI would.</summary>
    private static async Task OpenSslPki(string dir)
    {
        Directory.CreateDirectory(dir);
        string[] ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"];
        var cas = PkiCatalog.Cas.Select(c => c.Stem.Replace('/', '-')).ToList();
        foreach (var ca in cas)
        {
            await OpenSsl(["req", "-x509", .. ec, "-days", "3650", "-subj", $"/CN={ca}", "-keyout", Path.Combine(dir, ca + ".key"), "-out", Path.Combine(dir, ca + ".crt")]);
        }
        foreach (var leaf in PkiCatalog.Leaves)
        {
            var name = Path.Combine(dir, leaf.Stem.Replace('/', '-'));
            var ca = Path.Combine(dir, leaf.IssuerStem.Replace('/', '-'));
            await OpenSsl(["req", "-new", .. ec, "-subj", $"/CN={leaf.CommonName}", "-keyout", name + ".key", "-out", name + ".csr"]);
            await OpenSsl(["x509", "-req", "-in", name + ".csr", "-CA", ca + ".crt", "-CAkey", ca + ".key", "-days", "365", "-out", name + ".crt"]);
        }
    }

    private static Task OpenSsl(string[] args) => ProcessRunner.RunCheckedAsync(new ProcessSpec("openssl", args));
}
