using System.Globalization;
using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Bulwark.Config;
using Bulwark.Crypto;
using Bulwark.FileSystem;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Bulwark.Pki;

/// <summary>What the server PKI needs from the configuration.</summary>
public sealed record ServerPkiOptions(
    string DataDir,
    KeyAlgorithm KeyAlgorithm,
    NodeIdentity Node,
    IReadOnlyList<string> TlsSans,
    IReadOnlyList<string> ServiceCidrs,
    string ClusterDomain,
    string? Token,
    string? AgentToken)
{
    /// <summary>
    /// True on a server whose etcd member data exists: a configured token that differs from server/token may be a
    /// rotated one, which only the cluster can confirm, so the supervisor checks it once etcd runs.
    /// </summary>
    public bool TokenCheckedByCluster { get; init; }

    /// <summary>How long a retired service-account key stays accepted (service-account-key-retention); older ones are pruned at start.</summary>
    public TimeSpan ServiceAccountKeyRetention { get; init; } = TimeSpan.FromHours(720);

    public static ServerPkiOptions From(EffectiveConfig config) => new(
        config.DataDir,
        KeyAlgorithms.From(config),
        NodeIdentity.Resolve(config),
        // Clients reach the apiserver at a specific bind-address (RenderContext.KubeApiserverUrl): it must be named too.
        [.. config.Get(ConfigKeys.TlsSan), .. NodeIdentity.SpecificBindAddress(config) is { } bind ? [bind.ToString()] : Array.Empty<string>()],
        config.Get(ConfigKeys.ServiceCidr).Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries),
        config.Get(ConfigKeys.ClusterDomain),
        TokenSource.Server(config),
        TokenSource.Agent(config))
    {
        ServiceAccountKeyRetention = ServiceAccountKeys.RetentionOf(config),
    };
}

public enum PkiAction
{
    Created,
    Renewed,
    Reused,
}

/// <summary>One file of the PKI and what <see cref="ServerPki.Ensure(ServerPkiOptions)"/> did with it and why.</summary>
public sealed record PkiChange(string Path, PkiAction Action, string Reason);

/// <summary>The PKI's paths and what was created, renewed or reused.</summary>
public sealed record PkiResult(ServerPkiPaths Paths, IReadOnlyList<PkiChange> Changes)
{
    public IEnumerable<PkiChange> Created => Changes.Where(c => c.Action == PkiAction.Created);
    public IEnumerable<PkiChange> Renewed => Changes.Where(c => c.Action == PkiAction.Renewed);
    public bool Changed => Changes.Any(c => c.Action != PkiAction.Reused);
}

/// <summary>The result of <see cref="ServerPki.Rotate"/>: where the old files went, and the new state.</summary>
public sealed record RotationResult(string BackupDirectory, PkiResult Result);

/// <summary>
/// The server PKI under &lt;data-dir&gt;/server/tls: CAs, leaf certificates, the service-account key and the token.
/// Idempotent: reuses what exists (including user-provided CAs), regenerates what is missing, and renews leaves that
/// are expired or within <see cref="RenewWithin"/> of expiry. Folders 0700, files 0600, every write atomic.
/// </summary>
public sealed class ServerPki(CryptoService crypto, TimeProvider? clock = null, ILogger? logger = null)
{
    /// <summary>Leaves expiring within this are renewed at start (as RKE2 does).</summary>
    public static readonly TimeSpan RenewWithin = TimeSpan.FromDays(120);

    private readonly TimeProvider _clock = clock ?? TimeProvider.System;
    private readonly ILogger _logger = logger ?? NullLogger.Instance;

    public PkiResult Ensure(EffectiveConfig config) => Ensure(ServerPkiOptions.From(config));

    public PkiResult Ensure(ServerPkiOptions options) => Run(options, new HashSet<string>());

    /// <summary>
    /// Re-issues the leaves of the given services (all when empty) with new keys; CAs are kept. The whole tls folder
    /// is first copied to server/tls-&lt;unix time&gt;/.
    /// </summary>
    public RotationResult Rotate(ServerPkiOptions options, IReadOnlyCollection<string> services)
    {
        var leaves = PkiCatalog.LeavesFor(services);
        var paths = new ServerPkiPaths(options.DataDir);
        if (!File.Exists(paths.ServerCa.Certificate))
        {
            throw new PkiException($"{paths.TlsDirectory}: no server PKI to rotate; it is created by the first `bulwark server` start");
        }
        var backup = Backup(paths);
        _logger.LogInformation("Backed up {Source} to {Backup}", paths.TlsDirectory, backup);
        var result = Run(options, leaves.Select(l => l.Stem).ToHashSet(StringComparer.Ordinal));
        return new RotationResult(backup, result);
    }

    private PkiResult Run(ServerPkiOptions options, IReadOnlySet<string> forceRenew)
    {
        var paths = new ServerPkiPaths(options.DataDir);
        AtomicFile.EnsureDirectory(paths.ServerDirectory, AtomicFile.PrivateDirectory);
        AtomicFile.EnsureDirectory(paths.TlsDirectory, AtomicFile.PrivateDirectory);
        AtomicFile.EnsureDirectory(paths.EtcdDirectory, AtomicFile.PrivateDirectory);
        var issuer = new CertificateIssuer(crypto, _clock);
        var changes = new List<PkiChange>();
        var cas = new Dictionary<string, IssuedCertificate>(StringComparer.Ordinal);
        try
        {
            foreach (var ca in PkiCatalog.Cas)
            {
                cas[ca.Stem] = EnsureCa(paths, ca, options.KeyAlgorithm, issuer, changes);
            }
            EnsureServiceKey(paths, options.KeyAlgorithm, changes);
            foreach (var pruned in ServiceAccountKeys.Prune(options.DataDir, _clock.GetUtcNow(), options.ServiceAccountKeyRetention))
            {
                changes.Add(new PkiChange(pruned, PkiAction.Renewed, "retired service-account key past service-account-key-retention removed"));
            }
            foreach (var leaf in PkiCatalog.Leaves)
            {
                var profile = new CertificateProfile(leaf.CommonName, leaf.Organizations, leaf.Usage, AlternativeNames(leaf.Sans, options));
                EnsureLeaf(paths.Files(leaf.Stem), profile, cas[leaf.IssuerStem], options.KeyAlgorithm, issuer, forceRenew.Contains(leaf.Stem), changes);
            }
            EnsureNodeCredentials(paths, options, cas, issuer, forceRenew, changes);
            var caHash = ClusterToken.CaHashOf(crypto, File.ReadAllBytes(paths.ServerCa.Certificate));
            EnsureToken(paths.Token, options.Token, ClusterToken.ServerUser, caHash, "token", options.TokenCheckedByCluster, changes);
            if (options.AgentToken is not null)
            {
                EnsureToken(paths.AgentToken, options.AgentToken, ClusterToken.AgentUser, caHash, "agent-token", false, changes);
            }
        }
        finally
        {
            foreach (var ca in cas.Values)
            {
                ca.Dispose();
            }
        }
        foreach (var change in changes.Where(c => c.Action != PkiAction.Reused))
        {
            _logger.LogInformation("PKI: {Action} {Path} ({Reason})", change.Action.ToString().ToLowerInvariant(), change.Path, change.Reason);
        }
        return new PkiResult(paths, changes);
    }

    /// <summary>SANs of the kube-apiserver serving cert and the etcd certs (RKE2's lists).</summary>
    public static SubjectAlternativeNames AlternativeNames(SanSet set, ServerPkiOptions options)
    {
        foreach (var san in options.TlsSans)
        {
            if (!IPAddress.TryParse(san, out _) && !IsDnsName(san))
            {
                throw new PkiException($"tls-san \"{san}\" is neither an IP address nor a DNS name (letters, digits, '-' and '.', optionally starting with '*.'); fix it in the config file or --tls-san");
            }
        }
        IPAddress[] loopback = [IPAddress.Loopback, IPAddress.IPv6Loopback];
        return set switch
        {
            SanSet.KubeApiserver => SubjectAlternativeNames.From(
                ["kubernetes", "kubernetes.default", "kubernetes.default.svc", $"kubernetes.default.svc.{options.ClusterDomain}", "localhost", options.Node.Name, .. options.TlsSans],
                [.. loopback, .. options.ServiceCidrs.Select(FirstServiceIp), .. options.Node.Addresses]),
            SanSet.Etcd => SubjectAlternativeNames.From(["localhost", options.Node.Name], [.. loopback, .. options.Node.Addresses]),
            _ => SubjectAlternativeNames.None,
        };
    }

    private static bool IsDnsName(string name)
    {
        var labels = (name.StartsWith("*.", StringComparison.Ordinal) ? name[2..] : name).TrimEnd('.').Split('.');
        return name.Length <= 253 && labels.All(l => l.Length is > 0 and <= 63 && l[0] != '-' && l[^1] != '-' && l.All(c => char.IsAsciiLetterOrDigit(c) || c == '-'));
    }

    /// <summary>The first usable address of a service CIDR (10.43.0.0/16 → 10.43.0.1): the "kubernetes" Service's ClusterIP.</summary>
    public static IPAddress FirstServiceIp(string cidr)
    {
        var network = IPNetwork.Parse(cidr);
        var bytes = network.BaseAddress.GetAddressBytes();
        for (var i = bytes.Length - 1; i >= 0; i--)
        {
            if (++bytes[i] != 0)
            {
                break;
            }
        }
        return new IPAddress(bytes);
    }

    private IssuedCertificate EnsureCa(ServerPkiPaths paths, CaDefinition definition, KeyAlgorithm algorithm, CertificateIssuer issuer, List<PkiChange> changes)
    {
        var files = paths.Files(definition.Stem);
        var (haveCert, haveKey) = (File.Exists(files.Certificate), File.Exists(files.Key));
        if (haveCert != haveKey)
        {
            var (present, missing) = haveCert ? (files.Certificate, files.Key) : (files.Key, files.Certificate);
            throw new PkiException($"{present} exists but {missing} does not. A custom CA needs both its certificate and its private key " +
                "in server/tls before the first start; add the missing file, or remove both to let Bulwark generate the CA.");
        }
        if (!haveCert)
        {
            var now = _clock.GetUtcNow().ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture);
            var created = issuer.CreateCa($"{definition.CommonNamePrefix}@{now}", algorithm);
            WritePair(files, created);
            changes.Add(new PkiChange(files.Certificate, PkiAction.Created, "new CA"));
            return created;
        }
        IssuedCertificate? ca;
        try
        {
            ca = Load(files);
        }
        catch (CryptoPolicyException e)
        {
            throw new PkiException($"{files.Key}: {e.Message}", e);
        }
        catch (CryptographicException e)
        {
            throw new PkiException($"{files.Certificate} / {files.Key}: cannot be read as a PEM certificate and private key ({e.Message})", e);
        }
        if (ca is null)
        {
            throw new PkiException($"{files.Key} does not belong to {files.Certificate}; restore the matching key (a CA cannot be regenerated without re-issuing every certificate it signed)");
        }
        var constraints = ca.Certificate.Extensions.OfType<X509BasicConstraintsExtension>().FirstOrDefault();
        if (constraints is not { CertificateAuthority: true })
        {
            ca.Dispose();
            throw new PkiException($"{files.Certificate} is not a CA certificate (BasicConstraints CA:TRUE is missing); place a CA certificate there");
        }
        if (ca.Certificate.NotAfter.ToUniversalTime() <= _clock.GetUtcNow().UtcDateTime)
        {
            var notAfter = ca.Certificate.NotAfter.ToUniversalTime();
            ca.Dispose();
            throw new PkiException($"{files.Certificate} expired on {notAfter:yyyy-MM-dd HH:mm} UTC. Leaves cannot be renewed with an expired CA; " +
                "replace the CA (custom CA procedure) or restore a backup from server/tls-<time>/, then start again");
        }
        var fixedModes = FixModes(files);
        changes.Add(new PkiChange(files.Certificate, PkiAction.Reused, fixedModes ? "existing CA (file modes tightened to 0600)" : "existing CA"));
        return ca;
    }

    private void EnsureServiceKey(ServerPkiPaths paths, KeyAlgorithm algorithm, List<PkiChange> changes)
    {
        if (File.Exists(paths.ServiceKey))
        {
            string pem;
            AsymmetricAlgorithm key;
            try
            {
                pem = File.ReadAllText(paths.ServiceKey);
                key = crypto.ImportPrivateKeyPem(pem, paths.ServiceKey);
            }
            catch (Exception e) when (e is CryptoPolicyException or CryptographicException)
            {
                throw new PkiException($"{paths.ServiceKey}: {e.Message}. Replace it with an approved key, or remove it (and service.current.key) " +
                    "to generate a new one; existing service-account tokens then become invalid.", e);
            }
            key.Dispose();
            {
                if (ToAcceptedForm(pem) is { } wanted)
                {
                    // An EC key in PKCS#8 (written before v1.32's contract was checked) is refused by kube-apiserver's
                    // --service-account-key-file: rewrite the same key in the form it reads; tokens stay valid.
                    AtomicFile.WriteAllText(paths.ServiceKey, wanted, AtomicFile.Private);
                    changes.Add(new PkiChange(paths.ServiceKey, PkiAction.Renewed, "same key rewritten in the PEM form kube-apiserver reads"));
                }
                else
                {
                    var tightened = FixMode(paths.ServiceKey);
                    changes.Add(new PkiChange(paths.ServiceKey, PkiAction.Reused, tightened ? "existing key (mode tightened to 0600)" : "existing key"));
                }
            }
        }
        else
        {
            using var key = crypto.GenerateKey(algorithm);
            AtomicFile.WriteAllText(paths.ServiceKey, ServiceAccountKeyPem(key), AtomicFile.Private);
            changes.Add(new PkiChange(paths.ServiceKey, PkiAction.Created, "new service-account signing key"));
        }
        if (!File.Exists(paths.ServiceCurrentKey))
        {
            AtomicFile.WriteAllBytes(paths.ServiceCurrentKey, File.ReadAllBytes(paths.ServiceKey), AtomicFile.Private);
            changes.Add(new PkiChange(paths.ServiceCurrentKey, PkiAction.Created, "current service-account signing key"));
        }
        else if (ToAcceptedForm(File.ReadAllText(paths.ServiceCurrentKey)) is { } converted)
        {
            AtomicFile.WriteAllText(paths.ServiceCurrentKey, converted, AtomicFile.Private);
            changes.Add(new PkiChange(paths.ServiceCurrentKey, PkiAction.Renewed, "same key rewritten in the PEM form kube-apiserver reads"));
        }
        else
        {
            FixMode(paths.ServiceCurrentKey);
            changes.Add(new PkiChange(paths.ServiceCurrentKey, PkiAction.Reused, "existing key"));
        }
    }

    /// <summary>
    /// The service-account key in the form both readers accept (client-go util/keyutil v0.32, policies/kubernetes/v1.32/key-files.yaml):
    /// kube-apiserver's --service-account-key-file takes EC keys only as SEC1 ("EC PRIVATE KEY") and RSA as PKCS#1 or PKCS#8.
    /// </summary>
    public static string ServiceAccountKeyPem(AsymmetricAlgorithm key) => key switch
    {
        ECDsa ec => ec.ExportECPrivateKeyPem() + "\n",
        RSA rsa => rsa.ExportRSAPrivateKeyPem() + "\n",
        _ => throw new PkiException($"service-account key type {key.GetType().Name} is not supported; use ecdsa-p256, ecdsa-p384 or rsa-3072"),
    };

    /// <summary>An EC key in PKCS#8 re-encoded as SEC1; null when the PEM is already in an accepted form.</summary>
    private static string? ToAcceptedForm(string pem)
    {
        if (!pem.Contains("-----BEGIN PRIVATE KEY-----", StringComparison.Ordinal))
        {
            return null;
        }
        using var ec = ECDsa.Create();
        try
        {
            ec.ImportFromPem(pem);
        }
        catch (CryptographicException)
        {
            return null;
        }
        return ServiceAccountKeyPem(ec);
    }

    /// <summary>
    /// A server is a node too (as in RKE2): its kubelet and kube-proxy need the credentials an agent join obtains,
    /// with the identities the Node authorizer and the RBAC defaults expect. Written under &lt;data&gt;/agent/.
    /// </summary>
    private void EnsureNodeCredentials(ServerPkiPaths paths, ServerPkiOptions options, Dictionary<string, IssuedCertificate> cas, CertificateIssuer issuer,
        IReadOnlySet<string> forceRenew, List<PkiChange> changes)
    {
        AtomicFile.EnsureDirectory(paths.Layout.AgentDir, AtomicFile.PrivateDirectory);
        var nodeUser = NodeCredentials.NodeUser(options.Node.Name);
        IPAddress[] loopback = [IPAddress.Loopback, IPAddress.IPv6Loopback];
        var credentials = new (CertificateFiles Files, CertificateProfile Profile, string Ca)[]
        {
            (paths.NodeKubeletClient, new(nodeUser, [NodeCredentials.NodesGroup], CertificateUsage.Client, SubjectAlternativeNames.None), PkiCatalog.ClientCa),
            (paths.NodeKubeProxyClient, new(NodeCredentials.KubeProxyUser, [], CertificateUsage.Client, SubjectAlternativeNames.None), PkiCatalog.ClientCa),
            (paths.NodeKubeletServing, new(nodeUser, [NodeCredentials.NodesGroup], CertificateUsage.Server,
                SubjectAlternativeNames.From([options.Node.Name, "localhost"], [.. loopback, .. options.Node.Addresses])), PkiCatalog.ServerCa),
        };
        foreach (var (files, profile, ca) in credentials)
        {
            EnsureLeaf(files, profile, cas[ca], options.KeyAlgorithm, issuer, forceRenew.Contains("node/" + Path.GetFileNameWithoutExtension(files.Certificate)), changes);
        }
    }

    private void EnsureLeaf(CertificateFiles files, CertificateProfile profile, IssuedCertificate ca, KeyAlgorithm algorithm,
        CertificateIssuer issuer, bool force, List<PkiChange> changes)
    {
        var existed = File.Exists(files.Certificate) || File.Exists(files.Key);
        var reason = force ? "rotation requested" : WhyRenew(files, profile, ca);
        if (reason is null)
        {
            var tightened = FixModes(files);
            changes.Add(new PkiChange(files.Certificate, PkiAction.Reused, tightened ? "valid (file modes tightened to 0600)" : "valid"));
            return;
        }
        using var issued = issuer.Issue(ca, profile, algorithm);
        WritePair(files, issued);
        changes.Add(new PkiChange(files.Certificate, existed ? PkiAction.Renewed : PkiAction.Created, reason));
    }

    /// <summary>Null when the leaf on disk is fine; otherwise why it must be (re)issued.</summary>
    private string? WhyRenew(CertificateFiles files, CertificateProfile profile, IssuedCertificate ca)
    {
        if (!File.Exists(files.Certificate) || !File.Exists(files.Key))
        {
            return "missing";
        }
        IssuedCertificate? existing;
        try
        {
            existing = Load(files);
        }
        catch (Exception e) when (e is CryptographicException or CryptoPolicyException)
        {
            return $"unusable: {e.Message}";
        }
        if (existing is null)
        {
            return "key does not match the certificate";
        }
        using (existing)
        {
            var cert = existing.Certificate;
            if (!IssuedBy(cert, ca.Certificate))
            {
                return "not issued by the current CA";
            }
            var left = cert.NotAfter.ToUniversalTime() - _clock.GetUtcNow().UtcDateTime;
            if (left <= TimeSpan.Zero)
            {
                return $"expired on {cert.NotAfter.ToUniversalTime():yyyy-MM-dd}";
            }
            if (left < RenewWithin)
            {
                return $"expires in {(int)left.TotalDays} days (renewed within {(int)RenewWithin.TotalDays})";
            }
            if (!cert.SubjectName.RawData.AsSpan().SequenceEqual(CertificateIssuer.Subject(profile.CommonName, profile.Organizations).RawData))
            {
                return "subject changed";
            }
            if (!CertificateDetails.AlternativeNamesOf(cert).SameAs(profile.AlternativeNames))
            {
                return "SANs changed";
            }
        }
        return null;
    }

    /// <summary>True when the CA's key signed the certificate (chain built against that CA only; validity dates are judged separately).</summary>
    public static bool IssuedBy(X509Certificate2 certificate, X509Certificate2 ca)
    {
        if (!certificate.IssuerName.RawData.AsSpan().SequenceEqual(ca.SubjectName.RawData))
        {
            return false;
        }
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.Add(ca);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        chain.ChainPolicy.VerificationFlags = X509VerificationFlags.IgnoreNotTimeValid | X509VerificationFlags.IgnoreWrongUsage;
        chain.ChainPolicy.DisableCertificateDownloads = true;
        return chain.Build(certificate) && chain.ChainElements.Count >= 2 && chain.ChainElements[^1].Certificate.RawData.AsSpan().SequenceEqual(ca.RawData);
    }

    private IssuedCertificate? Load(CertificateFiles files)
    {
        X509Certificate2 cert;
        try
        {
            cert = X509Certificate2.CreateFromPem(File.ReadAllText(files.Certificate));
        }
        catch (CryptographicException e)
        {
            throw Corrupt(files.Certificate, "certificate", e);
        }
        AsymmetricAlgorithm key;
        try
        {
            key = crypto.ImportPrivateKeyPem(File.ReadAllText(files.Key), files.Key);
        }
        catch (Exception e) when (e is CryptographicException or ArgumentException)
        {
            cert.Dispose();
            throw Corrupt(files.Key, "private key", e);
        }
        catch
        {
            cert.Dispose();
            throw;
        }
        if (!IssuedCertificate.KeyMatches(cert, key))
        {
            cert.Dispose();
            key.Dispose();
            return null;
        }
        return new IssuedCertificate(cert, key);
    }

    private static PkiException Corrupt(string path, string what, Exception e) =>
        new($"{path} is not a valid PEM {what} ({e.Message}). Restore it from a backup of <data-dir>/server/tls; a CA cannot be re-made " +
            "without re-joining every node, while a leaf certificate may be deleted (with its key) and is re-issued on the next start", e);

    private void EnsureToken(string path, string? configured, string user, string caHash, string keyName, bool checkedByCluster, List<PkiChange> changes)
    {
        ClusterToken? wanted;
        try
        {
            wanted = configured is null ? null : ClusterToken.Parse(configured);
        }
        catch (TokenFormatException e)
        {
            throw new PkiException($"{keyName}: {e.Message}");
        }
        if (wanted is not null && !wanted.MatchesCa(caHash))
        {
            throw new PkiException($"{keyName}: the token's CA hash does not match this server's CA ({path}'s server-ca.crt); " +
                "the token belongs to another cluster. Use this cluster's token, or give the bare secret only.");
        }
        if (File.Exists(path))
        {
            ClusterToken existing;
            try
            {
                existing = ClusterToken.Parse(TokenSource.ReadFile(path, "the token file"));
            }
            catch (TokenFormatException e)
            {
                throw new PkiException($"{path}: {e.Message}. Restore the file, or remove it and set {keyName} to the cluster's secret.");
            }
            if (wanted is not null && !existing.SecretEquals(wanted))
            {
                if (checkedByCluster)
                {
                    changes.Add(new PkiChange(path, PkiAction.Reused, "the configured token differs: checked against the cluster's token rotations once etcd runs"));
                    return;
                }
                throw new PkiException($"{keyName}: the configured token differs from the one this server was set up with ({path}). " +
                    $"Use the original token (or, after bulwark token rotate, the new one that file now holds), or remove {keyName} from the configuration to keep the stored one.");
            }
            if (existing.CaHash != caHash || existing.User != user)
            {
                AtomicFile.WriteAllText(path, existing.WithUser(user).WithCaHash(caHash).Reveal() + "\n", AtomicFile.Private);
                changes.Add(new PkiChange(path, PkiAction.Renewed, "CA hash updated to the current server CA"));
                return;
            }
            var tightened = FixMode(path);
            changes.Add(new PkiChange(path, PkiAction.Reused, tightened ? "existing token (mode tightened to 0600)" : "existing token"));
            return;
        }
        var secret = wanted?.Secret ?? ClusterToken.NewSecret(crypto);
        var token = ClusterToken.Parse(secret).WithUser(user).WithCaHash(caHash);
        AtomicFile.WriteAllText(path, token.Reveal() + "\n", AtomicFile.Private);
        changes.Add(new PkiChange(path, PkiAction.Created, wanted is null ? "new random token (192-bit secret)" : $"from the configured {keyName}"));
    }

    private static void WritePair(CertificateFiles files, IssuedCertificate issued)
    {
        // Key first: a crash in between leaves a mismatched pair, which the next start detects and re-issues.
        AtomicFile.WriteAllText(files.Key, issued.KeyPem, AtomicFile.Private);
        AtomicFile.WriteAllText(files.Certificate, issued.CertificatePem, AtomicFile.Private);
    }

    private static bool FixModes(CertificateFiles files) => FixMode(files.Certificate) | FixMode(files.Key);

    private static bool FixMode(string path)
    {
        if (File.GetUnixFileMode(path) == AtomicFile.Private)
        {
            return false;
        }
        File.SetUnixFileMode(path, AtomicFile.Private);
        return true;
    }

    private string Backup(ServerPkiPaths paths)
    {
        var stamp = _clock.GetUtcNow().ToUnixTimeSeconds();
        var target = Path.Combine(paths.ServerDirectory, $"tls-{stamp}");
        for (var n = 1; Directory.Exists(target); n++)
        {
            target = Path.Combine(paths.ServerDirectory, $"tls-{stamp}-{n}");
        }
        CopyTree(paths.TlsDirectory, target);
        return target;
    }

    private static void CopyTree(string source, string target)
    {
        AtomicFile.EnsureDirectory(target, AtomicFile.PrivateDirectory);
        foreach (var file in Directory.GetFiles(source))
        {
            AtomicFile.WriteAllBytes(Path.Combine(target, Path.GetFileName(file)), File.ReadAllBytes(file), AtomicFile.Private);
        }
        foreach (var directory in Directory.GetDirectories(source))
        {
            CopyTree(directory, Path.Combine(target, Path.GetFileName(directory)));
        }
    }
}
