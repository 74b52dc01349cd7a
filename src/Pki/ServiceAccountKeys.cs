using System.Globalization;
using System.Security.Cryptography;
using Bulwark.Config;
using Bulwark.Crypto;
using Bulwark.FileSystem;

namespace Bulwark.Pki;

/// <summary>A service-account public key replaced by a rotation, kept for verification until <c>Retired + retention</c>.</summary>
public sealed record RetiredServiceAccountKey(string RelativePath, DateTimeOffset Retired);

/// <summary>The service-account key files after a rotation (relative to the data dir → PEM), and the retired ones dropped.</summary>
public sealed record ServiceAccountKeySet(IReadOnlyDictionary<string, string> Files, IReadOnlyList<string> Pruned);

/// <summary>
/// Service-account signing key rotation. The current key stays where the components read it (service.key for
/// kube-apiserver's <c>--service-account-key-file</c>, service.current.key for the signing and controller-manager
/// flags); each replaced key's public half goes to <c>server/tls/service-account/retired-&lt;unix seconds&gt;.pub</c>
/// (PKIX "PUBLIC KEY", a form client-go keyutil reads) and is listed as a further <c>--service-account-key-file</c> until
/// the retention (<c>service-account-key-retention</c>) has passed, so tokens signed before the rotation stay valid.
/// </summary>
public static class ServiceAccountKeys
{
    public const string ServiceKey = "server/tls/service.key";
    public const string CurrentKey = "server/tls/service.current.key";
    public const string RetiredFolder = "server/tls/service-account";
    private const string RetiredPrefix = "retired-";
    private const string RetiredSuffix = ".pub";

    /// <summary>service-account-key-retention (validated when the config is loaded).</summary>
    public static TimeSpan RetentionOf(EffectiveConfig config) =>
        Validators.TryParseDuration(config.Get(ConfigKeys.ServiceAccountKeyRetention), out var retention) ? retention : TimeSpan.FromHours(720);

    /// <summary>True for the relative paths this class manages (bootstrap data carries them between servers).</summary>
    public static bool IsKeyFile(string relative) => relative is ServiceKey or CurrentKey || RetiredTime(relative) is not null;

    /// <summary>The retired keys on disk, oldest first.</summary>
    public static IReadOnlyList<RetiredServiceAccountKey> Retired(string dataDir)
    {
        var folder = Path.Combine(dataDir, RetiredFolder);
        if (!Directory.Exists(folder))
        {
            return [];
        }
        return Directory.GetFiles(folder)
            .Select(f => Path.GetRelativePath(dataDir, f))
            .Select(r => RetiredTime(r) is { } t ? new RetiredServiceAccountKey(r, t) : null)
            .OfType<RetiredServiceAccountKey>()
            .OrderBy(r => r.Retired)
            .ToList();
    }

    /// <summary>The retired keys still within the retention at <paramref name="now"/>: kube-apiserver keeps accepting them.</summary>
    public static IReadOnlyList<RetiredServiceAccountKey> Retained(string dataDir, DateTimeOffset now, TimeSpan retention) =>
        Retired(dataDir).Where(r => r.Retired + retention > now).ToList();

    /// <summary>Deletes retired keys past the retention; returns their paths.</summary>
    public static IReadOnlyList<string> Prune(string dataDir, DateTimeOffset now, TimeSpan retention)
    {
        var pruned = Retired(dataDir).Where(r => r.Retired + retention <= now).Select(r => Path.Combine(dataDir, r.RelativePath)).ToList();
        pruned.ForEach(File.Delete);
        return pruned;
    }

    /// <summary>
    /// The files after rotating: a new key (<paramref name="algorithm"/>) as service.key and service.current.key, the
    /// current one's public key retired at <paramref name="now"/>, retired keys past the retention dropped. Nothing is written.
    /// </summary>
    public static ServiceAccountKeySet PlanRotation(CryptoService crypto, string dataDir, KeyAlgorithm algorithm, DateTimeOffset now, TimeSpan retention)
    {
        var currentPath = Path.Combine(dataDir, CurrentKey);
        if (!File.Exists(currentPath))
        {
            throw new PkiException($"{currentPath} does not exist: there is no service-account key to rotate yet; it is created by the first `bulwark server` start");
        }
        string retiredPem;
        using (var current = crypto.ImportPrivateKeyPem(File.ReadAllText(currentPath), currentPath))
        {
            retiredPem = current.ExportSubjectPublicKeyInfoPem() + "\n";
        }
        using var next = crypto.GenerateKey(algorithm);
        var pem = ServerPki.ServiceAccountKeyPem(next);
        var files = new SortedDictionary<string, string>(StringComparer.Ordinal) { [ServiceKey] = pem, [CurrentKey] = pem };
        var retired = Retired(dataDir);
        foreach (var kept in retired.Where(r => r.Retired + retention > now))
        {
            files[kept.RelativePath] = File.ReadAllText(Path.Combine(dataDir, kept.RelativePath));
        }
        var stamp = now.ToUnixTimeSeconds();
        while (files.ContainsKey(RetiredPath(stamp)))
        {
            stamp++;
        }
        files[RetiredPath(stamp)] = retiredPem;
        return new ServiceAccountKeySet(files, retired.Where(r => r.Retired + retention <= now).Select(r => r.RelativePath).ToList());
    }

    /// <summary>
    /// Makes this node's key files equal to <paramref name="files"/> (those of <see cref="IsKeyFile"/>; retired keys past
    /// the retention are skipped): writes what differs (atomic, 0600, folder 0700) and deletes retired keys not listed.
    /// Retired keys are written before the new current key, so a crash never leaves a signing key whose predecessor is unlisted.
    /// Returns the paths changed.
    /// </summary>
    public static IReadOnlyList<string> Apply(string dataDir, IReadOnlyDictionary<string, string> files, DateTimeOffset now, TimeSpan retention)
    {
        var wanted = files.Where(f => IsKeyFile(f.Key) && !(RetiredTime(f.Key) is { } t && t + retention <= now))
            .OrderBy(f => f.Key is ServiceKey or CurrentKey ? 1 : 0)
            .ThenBy(f => f.Key == CurrentKey ? 1 : 0)
            .ToList();
        if (!wanted.Any(f => f.Key == CurrentKey) || !wanted.Any(f => f.Key == ServiceKey))
        {
            throw new PkiException($"the service-account key set lacks {ServiceKey} or {CurrentKey}; nothing was changed");
        }
        AtomicFile.EnsureDirectory(Path.Combine(dataDir, RetiredFolder), AtomicFile.PrivateDirectory);
        var changed = new List<string>();
        foreach (var (relative, content) in wanted)
        {
            var path = Path.Combine(dataDir, relative);
            if (AtomicFile.WriteIfChanged(path, content, AtomicFile.Private))
            {
                changed.Add(path);
            }
        }
        foreach (var stale in Retired(dataDir).Where(r => !wanted.Any(w => w.Key == r.RelativePath)))
        {
            var path = Path.Combine(dataDir, stale.RelativePath);
            File.Delete(path);
            changed.Add(path);
        }
        return changed;
    }

    private static string RetiredPath(long unixSeconds) =>
        $"{RetiredFolder}/{RetiredPrefix}{unixSeconds.ToString(CultureInfo.InvariantCulture)}{RetiredSuffix}";

    private static DateTimeOffset? RetiredTime(string relative)
    {
        var prefix = $"{RetiredFolder}/{RetiredPrefix}";
        if (!relative.StartsWith(prefix, StringComparison.Ordinal) || !relative.EndsWith(RetiredSuffix, StringComparison.Ordinal))
        {
            return null;
        }
        var digits = relative[prefix.Length..^RetiredSuffix.Length];
        return digits.Length is > 0 and <= 12 && digits.All(char.IsAsciiDigit)
            ? DateTimeOffset.FromUnixTimeSeconds(long.Parse(digits, NumberStyles.None, CultureInfo.InvariantCulture))
            : null;
    }
}
