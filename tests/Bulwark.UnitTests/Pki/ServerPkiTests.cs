using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Bulwark.Crypto;
using Bulwark.FileSystem;
using Bulwark.Pki;

namespace Bulwark.Tests.Pki;

public sealed class ServerPkiTests : IDisposable
{
    private readonly TempDirectory _dir = new("bulwark-pki");

    public void Dispose() => _dir.Dispose();

    private ServerPkiPaths Paths => new(_dir.Path);

    private static X509Certificate2 Cert(string path) => X509Certificate2.CreateFromPem(File.ReadAllText(path));

    private Dictionary<string, byte[]> Snapshot() =>
        Directory.GetFiles(Paths.ServerDirectory, "*", SearchOption.AllDirectories).ToDictionary(f => f, File.ReadAllBytes);

    public static readonly string[] RkeFiles =
    [
        "server-ca", "client-ca", "request-header-ca", "serving-kube-apiserver", "client-admin", "client-controller", "client-scheduler",
        "client-kube-proxy", "client-supervisor", "client-kube-apiserver", "client-auth-proxy",
        "etcd/server-ca", "etcd/peer-ca", "etcd/server-client", "etcd/peer-server-client", "etcd/client",
    ];

    [Fact]
    public void A_fresh_pki_has_every_rke2_file_with_private_modes()
    {
        var result = TestPki.Create(_dir.Path);

        foreach (var stem in RkeFiles)
        {
            var files = Paths.Files(stem);
            Assert.Equal(AtomicFile.Private, File.GetUnixFileMode(files.Certificate));
            Assert.Equal(AtomicFile.Private, File.GetUnixFileMode(files.Key));
            Assert.StartsWith("-----BEGIN CERTIFICATE-----", File.ReadAllText(files.Certificate), StringComparison.Ordinal);
            Assert.StartsWith("-----BEGIN PRIVATE KEY-----", File.ReadAllText(files.Key), StringComparison.Ordinal);
        }
        foreach (var file in new[] { Paths.ServiceKey, Paths.ServiceCurrentKey, Paths.Token })
        {
            Assert.Equal(AtomicFile.Private, File.GetUnixFileMode(file));
        }
        foreach (var directory in new[] { Paths.ServerDirectory, Paths.TlsDirectory, Paths.EtcdDirectory })
        {
            Assert.Equal(AtomicFile.PrivateDirectory, File.GetUnixFileMode(directory));
        }
        Assert.All(result.Changes, c => Assert.Equal(PkiAction.Created, c.Action));
        Assert.Equal(RkeFiles.Length + 3 + 3, result.Changes.Count); // + service keys, token, and the node credentials
        Assert.Empty(Directory.GetFiles(Paths.TlsDirectory, "*.tmp", SearchOption.AllDirectories));
    }

    [Fact]
    public void The_token_file_holds_the_sha256_of_the_server_ca_file()
    {
        TestPki.Create(_dir.Path);
        var text = File.ReadAllText(Paths.Token);
        var caHash = Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(Paths.ServerCa.Certificate)));
        Assert.Matches($"^K10{caHash}::server:[0-9a-f]{{48}}\n$", text);
    }

    [Fact]
    public void A_configured_token_is_used_and_a_different_one_later_is_refused()
    {
        var pki = new ServerPki(TestPki.Crypto);
        pki.Ensure(TestPki.Options(_dir.Path, token: "my-cluster-secret"));
        Assert.EndsWith("::server:my-cluster-secret\n", File.ReadAllText(Paths.Token), StringComparison.Ordinal);

        Assert.False(pki.Ensure(TestPki.Options(_dir.Path, token: "my-cluster-secret")).Changed);
        var e = Assert.Throws<PkiException>(() => pki.Ensure(TestPki.Options(_dir.Path, token: "another-secret")));
        Assert.Contains("differs from the one this server was set up with", e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("my-cluster-secret", e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("another-secret", e.Message, StringComparison.Ordinal);

        var foreign = Assert.Throws<PkiException>(() => pki.Ensure(TestPki.Options(_dir.Path, token: $"K10{new string('0', 64)}::server:my-cluster-secret")));
        Assert.Contains("belongs to another cluster", foreign.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void An_agent_token_gets_its_own_file_with_the_node_user()
    {
        new ServerPki(TestPki.Crypto).Ensure(TestPki.Options(_dir.Path) with { AgentToken = "agents-only-secret" });
        Assert.Matches("^K10[0-9a-f]{64}::node:agents-only-secret\n$", File.ReadAllText(Paths.AgentToken));
        Assert.Equal(AtomicFile.Private, File.GetUnixFileMode(Paths.AgentToken));
    }

    [Fact]
    public void A_second_run_changes_nothing()
    {
        TestPki.Create(_dir.Path);
        var before = Snapshot();
        var times = before.Keys.ToDictionary(f => f, File.GetLastWriteTimeUtc);

        var second = TestPki.Create(_dir.Path);

        Assert.False(second.Changed);
        Assert.All(second.Changes, c => Assert.Equal(PkiAction.Reused, c.Action));
        var after = Snapshot();
        Assert.Equal(before.Keys.Order(), after.Keys.Order());
        Assert.All(before, kv => Assert.Equal(kv.Value, after[kv.Key]));
        Assert.All(times, kv => Assert.Equal(kv.Value, File.GetLastWriteTimeUtc(kv.Key)));
    }

    [Fact]
    public void A_leaf_that_expires_in_30_days_is_renewed_at_start()
    {
        TestPki.Create(_dir.Path);
        // Re-issue client-admin from the same CA so it expires in 30 days.
        var admin = Paths.ClientAdmin;
        using (var ca = X509Certificate2.CreateFromPemFile(Paths.ClientCa.Certificate, Paths.ClientCa.Key))
        using (var caKey = ca.GetECDsaPrivateKey()!)
        using (var caPair = new IssuedCertificate(X509CertificateLoader.LoadCertificate(ca.RawData), caKey))
        {
            var issuer = new CertificateIssuer(TestPki.Crypto, TimeProvider.System);
            using var shortLived = issuer.Issue(caPair, new CertificateProfile("system:admin", ["system:masters"], CertificateUsage.Client, SubjectAlternativeNames.None),
                KeyAlgorithm.EcdsaP256, TimeSpan.FromDays(30));
            File.WriteAllText(admin.Key, shortLived.KeyPem);
            File.WriteAllText(admin.Certificate, shortLived.CertificatePem);
        }
        Assert.InRange((Cert(admin.Certificate).NotAfter.ToUniversalTime() - DateTime.UtcNow).TotalDays, 29, 30);
        var otherBefore = File.ReadAllBytes(Paths.ClientController.Certificate);

        var result = TestPki.Create(_dir.Path);

        var renewed = Assert.Single(result.Renewed);
        Assert.Equal(admin.Certificate, renewed.Path);
        Assert.StartsWith("expires in 29 days", renewed.Reason, StringComparison.Ordinal);
        Assert.InRange((Cert(admin.Certificate).NotAfter.ToUniversalTime() - DateTime.UtcNow).TotalDays, 364, 366);
        Assert.Equal(otherBefore, File.ReadAllBytes(Paths.ClientController.Certificate));
        Assert.Equal(AtomicFile.Private, File.GetUnixFileMode(admin.Key));
    }

    [Fact]
    public void Leaves_within_120_days_of_expiry_are_renewed_but_cas_are_kept()
    {
        TestPki.Create(_dir.Path);
        var caBefore = File.ReadAllBytes(Paths.ServerCa.Certificate);

        var later = TestPki.Create(_dir.Path, clock: FixedClock.DaysFromNow(250));

        Assert.Equal(ServerPkiTests.RkeFiles.Length - 5 + 3, later.Renewed.Count()); // every leaf but the five CAs, and the three node credentials
        Assert.Equal(caBefore, File.ReadAllBytes(Paths.ServerCa.Certificate));
    }

    [Fact]
    public void An_expired_leaf_is_renewed_and_an_expired_ca_stops_with_guidance()
    {
        TestPki.Create(_dir.Path, clock: FixedClock.DaysFromNow(-400));
        Assert.True(Cert(Paths.ClientAdmin.Certificate).NotAfter < DateTime.Now);

        var result = TestPki.Create(_dir.Path);
        Assert.Contains(result.Renewed, c => c.Path == Paths.ClientAdmin.Certificate && c.Reason.StartsWith("expired on", StringComparison.Ordinal));

        using var fresh = new TempDirectory("bulwark-pki-old");
        TestPki.Create(fresh.Path, clock: FixedClock.DaysFromNow(-3660));
        var e = Assert.Throws<PkiException>(() => TestPki.Create(fresh.Path));
        Assert.Contains("server-ca.crt expired on", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_missing_leaf_is_regenerated_from_its_ca()
    {
        TestPki.Create(_dir.Path);
        File.Delete(Paths.EtcdClient.Key);

        var result = TestPki.Create(_dir.Path);

        var renewed = Assert.Single(result.Changes, c => c.Action != PkiAction.Reused);
        Assert.Equal((Paths.EtcdClient.Certificate, "missing"), (renewed.Path, renewed.Reason));
        Assert.True(ServerPki.IssuedBy(Cert(Paths.EtcdClient.Certificate), Cert(Paths.EtcdServerCa.Certificate)));
    }

    [Fact]
    public void A_user_provided_ca_is_used_to_issue_the_leaves()
    {
        var issuer = new CertificateIssuer(TestPki.Crypto, TimeProvider.System);
        using var custom = issuer.CreateCa("Example Corp Kubernetes CA", KeyAlgorithm.EcdsaP384);
        AtomicFile.EnsureDirectory(Paths.TlsDirectory, AtomicFile.PrivateDirectory);
        File.WriteAllText(Paths.ServerCa.Certificate, custom.CertificatePem);
        File.WriteAllText(Paths.ServerCa.Key, custom.Key is ECDsa ec ? ec.ExportECPrivateKeyPem() : throw new InvalidOperationException());

        var result = TestPki.Create(_dir.Path);

        Assert.Contains(result.Changes, c => c.Path == Paths.ServerCa.Certificate && c.Action == PkiAction.Reused);
        Assert.Equal(custom.CertificatePem, File.ReadAllText(Paths.ServerCa.Certificate));
        Assert.True(ServerPki.IssuedBy(Cert(Paths.ServingKubeApiserver.Certificate), custom.Certificate));
        // Modes of the user's files are tightened.
        Assert.Equal(AtomicFile.Private, File.GetUnixFileMode(Paths.ServerCa.Certificate));
    }

    [Fact]
    public void An_incomplete_custom_ca_is_refused_naming_the_missing_file()
    {
        AtomicFile.EnsureDirectory(Paths.TlsDirectory, AtomicFile.PrivateDirectory);
        File.WriteAllText(Paths.ClientCa.Certificate, "placeholder");
        var e = Assert.Throws<PkiException>(() => TestPki.Create(_dir.Path));
        Assert.Contains($"{Paths.ClientCa.Key} does not", e.Message, StringComparison.Ordinal);
        Assert.False(File.Exists(Paths.ClientAdmin.Certificate));
    }

    [Theory]
    [InlineData(KeyAlgorithm.EcdsaP256, "ECDSA P-256", "sha256ECDSA")]
    [InlineData(KeyAlgorithm.EcdsaP384, "ECDSA P-384", "sha384ECDSA")]
    [InlineData(KeyAlgorithm.Rsa3072, "RSA", "sha256RSA")]
    public void The_key_algorithm_is_configurable(KeyAlgorithm algorithm, string keyName, string signature)
    {
        TestPki.Create(_dir.Path, algorithm);
        using var ca = X509Certificate2.CreateFromPemFile(Paths.ServerCa.Certificate, Paths.ServerCa.Key);
        using var leaf = Cert(Paths.ServingKubeApiserver.Certificate);
        using AsymmetricAlgorithm key = (AsymmetricAlgorithm?)ca.GetECDsaPrivateKey() ?? ca.GetRSAPrivateKey()!;
        Assert.Equal(keyName, CryptoService.DescribeKey(key));
        if (key is RSA rsa)
        {
            Assert.Equal(3072, rsa.KeySize);
        }
        Assert.Equal(signature, leaf.SignatureAlgorithm.FriendlyName);
    }

    [Fact]
    public void Cas_and_leaves_carry_the_right_extensions_and_validity()
    {
        TestPki.Create(_dir.Path);
        using var ca = Cert(Paths.ServerCa.Certificate);
        Assert.True(CertificateDetails.IsCa(ca));
        Assert.True(ca.Extensions.OfType<X509BasicConstraintsExtension>().Single().Critical);
        Assert.Equal(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign | X509KeyUsageFlags.DigitalSignature,
            ca.Extensions.OfType<X509KeyUsageExtension>().Single().KeyUsages);
        Assert.InRange((ca.NotAfter - ca.NotBefore).TotalDays, 3650, 3651);

        using var serving = Cert(Paths.ServingKubeApiserver.Certificate);
        Assert.False(CertificateDetails.IsCa(serving));
        Assert.Equal(["serverAuth"], CertificateDetails.ExtendedKeyUsagesOf(serving));
        Assert.InRange((serving.NotAfter - serving.NotBefore).TotalDays, 365, 366);
        var ski = ca.Extensions.OfType<X509SubjectKeyIdentifierExtension>().Single().SubjectKeyIdentifier;
        var aki = serving.Extensions.OfType<X509AuthorityKeyIdentifierExtension>().Single().KeyIdentifier!.Value.ToArray();
        Assert.Equal(ski, Convert.ToHexString(aki));
        Assert.NotNull(serving.Extensions.OfType<X509SubjectKeyIdentifierExtension>().SingleOrDefault());

        using var admin = Cert(Paths.ClientAdmin.Certificate);
        Assert.Equal("CN=system:admin, O=system:masters", admin.Subject); // .NET shows the last RDN first
        Assert.Equal(["clientAuth"], CertificateDetails.ExtendedKeyUsagesOf(admin));
        Assert.True(CertificateDetails.AlternativeNamesOf(admin).IsEmpty);

        foreach (var stem in new[] { "etcd/server-client", "etcd/peer-server-client" })
        {
            using var etcd = Cert(Paths.Files(stem).Certificate);
            Assert.Equal(["serverAuth", "clientAuth"], CertificateDetails.ExtendedKeyUsagesOf(etcd));
            Assert.Equal(["DNS:localhost", "DNS:node-1", "IP:127.0.0.1", "IP:::1", "IP:192.0.2.15"], CertificateDetails.AlternativeNamesOf(etcd).Entries);
        }
        using var auth = Cert(Paths.ClientAuthProxy.Certificate);
        Assert.True(ServerPki.IssuedBy(auth, Cert(Paths.RequestHeaderCa.Certificate)));
        Assert.True(ServerPki.IssuedBy(Cert(Paths.EtcdPeerServerClient.Certificate), Cert(Paths.EtcdPeerCa.Certificate)));
        Assert.False(ServerPki.IssuedBy(Cert(Paths.EtcdPeerServerClient.Certificate), Cert(Paths.EtcdServerCa.Certificate)));
    }

    [Fact]
    public void The_apiserver_serving_cert_has_the_kubernetes_names_service_ip_node_and_tls_sans()
    {
        TestPki.Create(_dir.Path);
        var sans = CertificateDetails.AlternativeNamesOf(Cert(Paths.ServingKubeApiserver.Certificate));
        Assert.Equal(["kubernetes", "kubernetes.default", "kubernetes.default.svc", "kubernetes.default.svc.cluster.local", "localhost", "node-1", "cluster.example.com"], sans.DnsNames);
        Assert.Equal(["127.0.0.1", "::1", "10.43.0.1", "192.0.2.15", "198.51.100.7"], sans.IpAddresses.Select(i => i.ToString()));
    }

    [Fact]
    public void Changing_tls_san_reissues_only_the_serving_cert()
    {
        TestPki.Create(_dir.Path);
        var result = new ServerPki(TestPki.Crypto).Ensure(TestPki.Options(_dir.Path, tlsSans: ["cluster.example.com", "api.example.org"]));
        var renewed = Assert.Single(result.Renewed);
        Assert.Equal((Paths.ServingKubeApiserver.Certificate, "SANs changed"), (renewed.Path, renewed.Reason));
        Assert.Contains("api.example.org", CertificateDetails.AlternativeNamesOf(Cert(Paths.ServingKubeApiserver.Certificate)).DnsNames);
    }

    [Theory]
    [InlineData("bad name")]
    [InlineData("-lead.example.com")]
    [InlineData("under_score.example")]
    public void A_malformed_tls_san_is_refused_before_anything_is_written(string san)
    {
        var e = Assert.Throws<PkiException>(() => new ServerPki(TestPki.Crypto).Ensure(TestPki.Options(_dir.Path, tlsSans: [san])));
        Assert.Contains($"tls-san \"{san}\" is neither an IP address nor a DNS name", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Wildcard_and_ipv6_tls_sans_are_accepted()
    {
        new ServerPki(TestPki.Crypto).Ensure(TestPki.Options(_dir.Path, tlsSans: ["*.apps.example.com", "2001:db8::10"]));
        var sans = CertificateDetails.AlternativeNamesOf(Cert(Paths.ServingKubeApiserver.Certificate));
        Assert.Contains("*.apps.example.com", sans.DnsNames);
        Assert.Contains(IPAddress.Parse("2001:db8::10"), sans.IpAddresses);
    }

    [Fact]
    public void A_custom_ca_with_a_weak_key_is_refused_naming_the_file_and_the_rule()
    {
        using var weak = RSA.Create(1024);
        var request = new CertificateRequest("CN=weak-ca", weak, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        using var cert = request.CreateSelfSigned(DateTimeOffset.UtcNow, DateTimeOffset.UtcNow.AddYears(1));
        AtomicFile.EnsureDirectory(Paths.TlsDirectory, AtomicFile.PrivateDirectory);
        File.WriteAllText(Paths.ServerCa.Certificate, cert.ExportCertificatePem());
        File.WriteAllText(Paths.ServerCa.Key, weak.ExportPkcs8PrivateKeyPem());

        var e = Assert.Throws<PkiException>(() => TestPki.Create(_dir.Path));

        Assert.StartsWith($"{Paths.ServerCa.Key}: RSA-1024 is not an approved algorithm", e.Message, StringComparison.Ordinal);
        Assert.Contains("at least 2048 bits", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("10.43.0.0/16", "10.43.0.1")]
    [InlineData("10.96.0.0/12", "10.96.0.1")]
    [InlineData("fd00:43::/108", "fd00:43::1")]
    public void The_first_service_ip_is_the_cidr_base_plus_one(string cidr, string expected) =>
        Assert.Equal(IPAddress.Parse(expected), ServerPki.FirstServiceIp(cidr));

    [Fact]
    public void Rotate_backs_up_and_reissues_the_chosen_services_only()
    {
        TestPki.Create(_dir.Path);
        var before = Snapshot();

        var rotation = new ServerPki(TestPki.Crypto).Rotate(TestPki.Options(_dir.Path), ["admin", "etcd"]);

        Assert.StartsWith(Path.Combine(Paths.ServerDirectory, "tls-"), rotation.BackupDirectory, StringComparison.Ordinal);
        Assert.Equal(AtomicFile.PrivateDirectory, File.GetUnixFileMode(rotation.BackupDirectory));
        foreach (var (file, bytes) in before.Where(kv => kv.Key.StartsWith(Paths.TlsDirectory + "/", StringComparison.Ordinal)))
        {
            var copy = Path.Combine(rotation.BackupDirectory, Path.GetRelativePath(Paths.TlsDirectory, file));
            Assert.Equal(bytes, File.ReadAllBytes(copy));
            Assert.Equal(AtomicFile.Private, File.GetUnixFileMode(copy));
        }
        var renewed = rotation.Result.Renewed.Select(c => Path.GetRelativePath(Paths.TlsDirectory, c.Path)).Order().ToList();
        Assert.Equal(["client-admin.crt", "etcd/client.crt", "etcd/peer-server-client.crt", "etcd/server-client.crt"], renewed);
        Assert.Equal(before[Paths.ServerCa.Certificate], File.ReadAllBytes(Paths.ServerCa.Certificate));
        Assert.Equal(before[Paths.ClientController.Key], File.ReadAllBytes(Paths.ClientController.Key));
        Assert.NotEqual(before[Paths.ClientAdmin.Key], File.ReadAllBytes(Paths.ClientAdmin.Key));
    }

    [Fact]
    public void Rotate_rejects_unknown_services_and_accepts_rke2_names()
    {
        var e = Assert.Throws<ArgumentException>(() => PkiCatalog.LeavesFor(["admin", "kubelet"]));
        Assert.Contains("live on agents", e.Message, StringComparison.Ordinal);
        Assert.Contains("valid services: api-server, admin", e.Message, StringComparison.Ordinal);
        Assert.Equal(["client-supervisor"], PkiCatalog.LeavesFor(["rke2-server"]).Select(l => l.Stem));
        Assert.Equal(PkiCatalog.Leaves.Count, PkiCatalog.LeavesFor([]).Count);
    }

    [Fact]
    public void Check_reports_days_left_and_status()
    {
        TestPki.Create(_dir.Path);
        var report = CertificateInventory.Check(Paths);
        Assert.Equal(RkeFiles.Length, report.Certificates.Count);
        Assert.All(report.Certificates, c => Assert.Equal(CertificateHealth.Ok, c.Health));
        Assert.False(report.AnyExpired);

        var soon = CertificateInventory.Check(Paths, FixedClock.DaysFromNow(300));
        Assert.Equal(RkeFiles.Length - 5, soon.Certificates.Count(c => c.Health == CertificateHealth.RenewSoon));
        var late = CertificateInventory.Check(Paths, FixedClock.DaysFromNow(400));
        Assert.True(late.AnyExpired);
        var admin = late.Certificates.Single(c => c.File == "client-admin.crt");
        Assert.Equal(CertificateHealth.Expired, admin.Health);
        Assert.True(admin.DaysLeft < 0);
    }
}
