using System.Globalization;
using System.Security.Cryptography.X509Certificates;
using Bulwark.Crypto;
using Bulwark.Diagnostics;
using Bulwark.FileSystem;

namespace Bulwark.Pki;

/// <summary>The steps of a CA rotation, each followed by a restart of every server.</summary>
public enum CaRotationStep
{
    /// <summary>New CAs are added to every trust bundle beside the old ones; the old CAs still sign.</summary>
    Prepare,

    /// <summary>The new CAs sign: every leaf is re-issued from them; the bundles still trust the old CAs.</summary>
    Rotate,

    /// <summary>The old CAs leave the bundles: certificates they issued are refused from now on.</summary>
    Finish,
}

/// <summary>
/// CA rotation with the old and new CAs side by side (chosen over cross-signing: every component here reads its trust
/// from a CA file, and a PEM bundle of two roots is trusted by Go, OpenSSL and .NET alike, while a cross-signed chain
/// needs every peer to send the intermediate). Each CA file <c>&lt;stem&gt;.crt</c> is a bundle whose first certificate
/// is the one that signs (its key is <c>&lt;stem&gt;.key</c>); the prepared CA's key waits in <c>&lt;stem&gt;.next.key</c>.
/// <list type="bullet">
/// <item>prepare: <c>crt = old + new</c>, <c>next.key = new key</c> — components trust both, nothing is re-issued;</item>
/// <item>rotate: <c>crt = new + old</c>, <c>key = new key</c> — leaves are re-issued from the new CAs;</item>
/// <item>finish: <c>crt = new</c> — the old CAs are no longer trusted.</item>
/// </list>
/// Every step is planned as file contents first (<see cref="Plan"/>) and written only after the cluster's copy was updated.
/// </summary>
public static class CaRotation
{
    /// <summary>The relative path of a CA's waiting key (<c>server/tls/&lt;stem&gt;.next.key</c>).</summary>
    public static string NextKey(CaDefinition ca) => $"server/tls/{ca.Stem}.next.key";

    public static string CertificateFile(CaDefinition ca) => $"server/tls/{ca.Stem}.crt";

    public static string KeyFile(CaDefinition ca) => $"server/tls/{ca.Stem}.key";

    /// <summary>True for the relative paths a CA rotation writes (the bootstrap data carries them between servers).</summary>
    public static bool IsCaFile(string relative) =>
        PkiCatalog.Cas.Any(ca => relative == CertificateFile(ca) || relative == KeyFile(ca) || relative == NextKey(ca));

    /// <summary>The files after <paramref name="step"/> (relative path → content; null deletes). Nothing is written.</summary>
    public static IReadOnlyDictionary<string, string?> Plan(CryptoService crypto, string dataDir, KeyAlgorithm algorithm, CaRotationStep step, TimeProvider clock)
    {
        var files = new SortedDictionary<string, string?>(StringComparer.Ordinal);
        var issuer = new CertificateIssuer(crypto, clock);
        foreach (var ca in PkiCatalog.Cas)
        {
            var certificates = Bundle(Path.Combine(dataDir, CertificateFile(ca)));
            var nextKeyPath = Path.Combine(dataDir, NextKey(ca));
            var prepared = File.Exists(nextKeyPath);
            switch (step)
            {
                case CaRotationStep.Prepare when certificates.Count == 1 && !prepared:
                    var now = clock.GetUtcNow().ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture);
                    using (var created = issuer.CreateCa($"{ca.CommonNamePrefix}@{now}", algorithm))
                    {
                        files[CertificateFile(ca)] = certificates[0] + created.CertificatePem;
                        files[NextKey(ca)] = created.KeyPem;
                    }
                    break;
                case CaRotationStep.Rotate when certificates.Count == 2 && prepared:
                    files[CertificateFile(ca)] = certificates[1] + certificates[0];
                    files[KeyFile(ca)] = File.ReadAllText(nextKeyPath);
                    files[NextKey(ca)] = null;
                    break;
                case CaRotationStep.Finish when certificates.Count == 2 && !prepared:
                    files[CertificateFile(ca)] = certificates[0];
                    break;
                default:
                    throw new BulwarkException(ErrorKind.Refused, $"{CertificateFile(ca)}: cannot {step.ToString().ToLowerInvariant()} now: it holds {certificates.Count} CA certificate(s)" +
                        $"{(prepared ? " and a prepared next key" : "")}. The steps run in order: prepare (one CA), rotate (two CAs and a prepared key), finish (two CAs). Nothing was changed.");
            }
        }
        return files;
    }

    /// <summary>
    /// Makes this node's CA files equal to those in <paramref name="files"/> (others ignored): writes what differs
    /// (atomic, 0600), deletes a <c>.next.key</c> the set no longer holds. Keys are written before certificates so a CA
    /// file never names a key that is not there yet. Returns the paths changed.
    /// </summary>
    public static IReadOnlyList<string> Apply(string dataDir, IReadOnlyDictionary<string, string?> files)
    {
        var changed = new List<string>();
        foreach (var (relative, content) in files.Where(f => IsCaFile(f.Key)).OrderBy(f => f.Key.EndsWith(".crt", StringComparison.Ordinal) ? 1 : 0))
        {
            var path = Path.Combine(dataDir, relative);
            if (content is null)
            {
                if (File.Exists(path))
                {
                    File.Delete(path);
                    changed.Add(path);
                }
            }
            else if (AtomicFile.WriteIfChanged(path, content, AtomicFile.Private))
            {
                changed.Add(path);
            }
        }
        return changed;
    }

    /// <summary>The CA files of a full bootstrap set, with a null for each <c>.next.key</c> it lacks (so a finished step removes it everywhere).</summary>
    public static IReadOnlyDictionary<string, string?> FromBootstrap(IReadOnlyDictionary<string, string> files) =>
        PkiCatalog.Cas.SelectMany(ca => new[] { CertificateFile(ca), KeyFile(ca), NextKey(ca) })
            .Where(r => files.ContainsKey(r) || r.EndsWith(".next.key", StringComparison.Ordinal))
            .ToDictionary(r => r, r => files.TryGetValue(r, out var content) ? content : null, StringComparer.Ordinal);

    /// <summary>The certificates of a PEM bundle, each as its own PEM text.</summary>
    public static IReadOnlyList<string> Bundle(string path)
    {
        var collection = new X509Certificate2Collection();
        collection.ImportFromPemFile(path);
        try
        {
            return collection.Select(c => c.ExportCertificatePem() + "\n").ToList();
        }
        finally
        {
            foreach (var certificate in collection)
            {
                certificate.Dispose();
            }
        }
    }
}
