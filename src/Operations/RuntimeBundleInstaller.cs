using System.Formats.Tar;
using System.IO.Compression;
using System.Security.Cryptography;
using System.Text.Json;
using System.Text.RegularExpressions;
using Bulwark.ControlPlane;
using Bulwark.Diagnostics;
using Bulwark.FileSystem;

using CliWrap.Buffered;

namespace Bulwark.Operations;

/// <summary>
/// <c>bulwark runtime install</c>: the upstream Kubernetes binaries into &lt;data-dir&gt;/data/&lt;version&gt;/bin.
/// Takes the server release archive (<c>kubernetes-server-linux-amd64.tar.gz</c>, whose published digest is sha512)
/// or a folder of binaries (each with the <c>NAME.sha512</c> file the release publishes beside it). Every digest and
/// every binary's <c>--version</c> (against the pinned Kubernetes minor) is checked in a staging folder first; then
/// the folder is renamed into place and <c>data/current</c> switched to it, so a refused or interrupted install
/// changes nothing.
/// </summary>
public sealed partial class RuntimeBundleInstaller(string dataDir, string pinnedMinor, TimeProvider? clock = null)
{
    private const string ArchiveBinPrefix = "kubernetes/server/bin/";

    /// <summary>The binaries a node runs from the bundle (etcd is the host's); the release has them all.</summary>
    public static IReadOnlyList<string> RequiredBinaries => ComponentLauncher.LaunchOrder;

    public string DataRoot => Path.Combine(dataDir, "data");

    /// <param name="source">a release archive (.tar.gz/.tgz) or a folder of binaries.</param>
    /// <param name="sha512">the archive's digest; for a folder, NAME=HEX pairs; when empty the .sha512 files beside are read.</param>
    public async Task<RuntimeBundleManifest> InstallAsync(string source, IReadOnlyList<string> sha512, Action<string>? progress, CancellationToken cancellationToken)
    {
        var full = Path.GetFullPath(source);
        if (!File.Exists(full) && !Directory.Exists(full))
        {
            throw BulwarkException.Refused($"{source}: no such file or folder; give the Kubernetes server release archive or a folder of its binaries");
        }
        Directory.CreateDirectory(DataRoot, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        var staging = Path.Combine(DataRoot, $".staging-{Guid.NewGuid():N}");
        var bin = Path.Combine(staging, "bin");
        Directory.CreateDirectory(bin, (UnixFileMode)0b111_101_101);
        try
        {
            if (File.Exists(full))
            {
                await VerifyArchiveDigestAsync(full, sha512, progress, cancellationToken).ConfigureAwait(false);
                await ExtractBinariesAsync(full, bin, cancellationToken).ConfigureAwait(false);
            }
            else
            {
                CopyVerifiedBinaries(FolderOfBinaries(full), sha512, bin, progress);
            }
            var binaries = new List<RuntimeBinary>();
            foreach (var name in RequiredBinaries)
            {
                var path = Path.Combine(bin, name);
                var version = await ProbeVersionAsync(path, cancellationToken).ConfigureAwait(false);
                binaries.Add(new RuntimeBinary(name, HashFile(path), version));
                progress?.Invoke($"{name} {version}");
            }
            var versions = binaries.Select(b => b.Version).Distinct(StringComparer.Ordinal).ToList();
            if (versions.Count > 1)
            {
                throw BulwarkException.Refused($"the binaries are from different releases ({string.Join(", ", binaries.Select(b => $"{b.Name} {b.Version}"))}); install one release's binaries together. Nothing was changed.");
            }
            var release = versions[0];
            if (MinorOf(release) != pinnedMinor)
            {
                throw BulwarkException.Refused($"the binaries are Kubernetes {release}, but this Bulwark runs Kubernetes {pinnedMinor}.x; install a {pinnedMinor} release (e.g. kubernetes-server-linux-amd64.tar.gz of v{pinnedMinor}.N). Nothing was changed.");
            }
            var manifest = new RuntimeBundleManifest(release, (clock ?? TimeProvider.System).GetUtcNow(), full, binaries);
            await using (var stream = new FileStream(Path.Combine(staging, "bundle.json"), new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write, UnixCreateMode = (UnixFileMode)0b110_100_100 }))
            {
                await JsonSerializer.SerializeAsync(stream, manifest, RuntimeBundleJsonContext.Default.RuntimeBundleManifest, cancellationToken).ConfigureAwait(false);
                stream.Flush(flushToDisk: true);
            }
            Switch(staging, release);
            return manifest;
        }
        finally
        {
            if (Directory.Exists(staging))
            {
                Directory.Delete(staging, recursive: true);
            }
        }
    }

    /// <summary>Renames the staged folder to data/&lt;version&gt; and points data/current at it (a symlink replaced by rename).</summary>
    private void Switch(string staging, string release)
    {
        var target = Path.Combine(DataRoot, release);
        string? previous = null;
        if (Directory.Exists(target))
        {
            previous = Path.Combine(DataRoot, $".old-{Guid.NewGuid():N}");
            Directory.Move(target, previous);
        }
        Directory.Move(staging, target);
        AtomicFile.PointSymlink(RuntimeBundle.CurrentLink(dataDir), release);
        if (previous is not null)
        {
            Directory.Delete(previous, recursive: true);
        }
    }

    private static async Task VerifyArchiveDigestAsync(string archive, IReadOnlyList<string> sha512, Action<string>? progress, CancellationToken cancellationToken)
    {
        var expected = sha512.Count switch
        {
            0 => ReadDigestFile(archive + ".sha512", archive),
            1 => ParseHex(sha512[0], "--sha512"),
            _ => throw BulwarkException.Refused("an archive has one digest: give --sha512 once"),
        };
        progress?.Invoke($"checking the sha512 of {Path.GetFileName(archive)}");
        byte[] actual;
        await using (var stream = File.OpenRead(archive))
        {
            actual = await SHA512.HashDataAsync(stream, cancellationToken).ConfigureAwait(false);
        }
        if (!CryptographicOperations.FixedTimeEquals(actual, Convert.FromHexString(expected)))
        {
            throw BulwarkException.Refused($"{archive}: sha512 {Convert.ToHexStringLower(actual)} is not the published {expected}; the archive is corrupt or not the release you meant. Nothing was changed.");
        }
    }

    /// <summary>Streams the gzip tar once and writes only the required binaries (the release also holds ~400 MB of images).</summary>
    private static async Task ExtractBinariesAsync(string archive, string bin, CancellationToken cancellationToken)
    {
        var wanted = RequiredBinaries.ToHashSet(StringComparer.Ordinal);
        try
        {
            await using var file = File.OpenRead(archive);
            await using var gzip = new GZipStream(file, CompressionMode.Decompress);
            await using var tar = new TarReader(gzip);
            while (await tar.GetNextEntryAsync(copyData: false, cancellationToken).ConfigureAwait(false) is { } entry)
            {
                var name = entry.Name.StartsWith("./", StringComparison.Ordinal) ? entry.Name[2..] : entry.Name;
                if (!name.StartsWith(ArchiveBinPrefix, StringComparison.Ordinal) || !wanted.Contains(name[ArchiveBinPrefix.Length..]))
                {
                    continue;
                }
                if (entry.EntryType is not (TarEntryType.RegularFile or TarEntryType.V7RegularFile) || entry.DataStream is null)
                {
                    throw BulwarkException.Refused($"{archive}: {name} is not a regular file ({entry.EntryType}); refusing links in a release archive. Nothing was changed.");
                }
                await using var output = new FileStream(Path.Combine(bin, name[ArchiveBinPrefix.Length..]), new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write, UnixCreateMode = (UnixFileMode)0b111_101_101 });
                await entry.DataStream.CopyToAsync(output, cancellationToken).ConfigureAwait(false);
                output.Flush(flushToDisk: true);
                wanted.Remove(name[ArchiveBinPrefix.Length..]);
            }
        }
        catch (Exception e) when (e is InvalidDataException or FormatException or EndOfStreamException)
        {
            throw BulwarkException.Refused($"{archive}: not a readable .tar.gz ({e.Message}). Nothing was changed.");
        }
        if (wanted.Count > 0)
        {
            throw BulwarkException.Refused($"{archive} lacks {string.Join(", ", wanted.Select(w => ArchiveBinPrefix + w))}; is it kubernetes-server-linux-<arch>.tar.gz? Nothing was changed.");
        }
    }

    /// <summary>The folder itself, or the bin folder of an unpacked server release inside it.</summary>
    private static string FolderOfBinaries(string folder)
    {
        var unpacked = Path.Combine(folder, ArchiveBinPrefix);
        return Directory.Exists(unpacked) && !File.Exists(Path.Combine(folder, RequiredBinaries[0])) ? unpacked : folder;
    }

    private static void CopyVerifiedBinaries(string folder, IReadOnlyList<string> sha512, string bin, Action<string>? progress)
    {
        var given = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var pair in sha512)
        {
            var eq = pair.IndexOf('=', StringComparison.Ordinal);
            if (eq <= 0 || !RequiredBinaries.Contains(pair[..eq]))
            {
                throw BulwarkException.Refused($"--sha512 {pair}: for a folder give NAME=HEX, NAME one of {string.Join(", ", RequiredBinaries)}");
            }
            given[pair[..eq]] = ParseHex(pair[(eq + 1)..], $"--sha512 {pair[..eq]}");
        }
        var missing = RequiredBinaries.Where(n => !File.Exists(Path.Combine(folder, n))).ToList();
        if (missing.Count > 0)
        {
            throw BulwarkException.Refused($"{folder} lacks {string.Join(", ", missing)}; a runtime bundle needs {string.Join(", ", RequiredBinaries)}. Nothing was changed.");
        }
        foreach (var name in RequiredBinaries)
        {
            var source = Path.Combine(folder, name);
            var expected = given.TryGetValue(name, out var hex) ? hex : ReadDigestFile(source + ".sha512", source);
            var destination = Path.Combine(bin, name);
            using (var input = File.OpenRead(source))
            using (var output = new FileStream(destination, new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write, UnixCreateMode = (UnixFileMode)0b111_101_101 }))
            {
                input.CopyTo(output);
                output.Flush(flushToDisk: true);
            }
            // The copy is what gets hashed and run, so a file swapped in the source folder meanwhile cannot slip through.
            var actual = HashFile(destination);
            if (!CryptographicOperations.FixedTimeEquals(Convert.FromHexString(actual), Convert.FromHexString(expected)))
            {
                throw BulwarkException.Refused($"{source}: sha512 {actual} is not the published {expected}. Nothing was changed.");
            }
            progress?.Invoke($"{name}: sha512 verified");
        }
    }

    private static string ReadDigestFile(string path, string of)
    {
        if (!File.Exists(path))
        {
            throw BulwarkException.Refused($"no digest for {of}: put the release's {Path.GetFileName(path)} beside it or pass --sha512 (the digests are published with every Kubernetes release). Nothing was changed.");
        }
        var first = File.ReadAllText(path).Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries).FirstOrDefault() ?? "";
        return ParseHex(first, path);
    }

    private static string ParseHex(string text, string where)
    {
        var hex = text.Trim().ToLowerInvariant();
        if (hex.Length != 128 || !hex.All(char.IsAsciiHexDigit))
        {
            throw BulwarkException.Refused($"{where}: expected a sha512 digest (128 hex digits), got \"{(text.Length > 140 ? text[..140] + "…" : text)}\"");
        }
        return hex;
    }

    internal static string HashFile(string path)
    {
        using var stream = File.OpenRead(path);
        return Convert.ToHexStringLower(SHA512.HashData(stream));
    }

    /// <summary>Runs <c>BINARY --version</c> (every Kubernetes component prints <c>Kubernetes vX.Y.Z</c>).</summary>
    internal static async Task<string> ProbeVersionAsync(string binary, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(30));
        BufferedCommandResult result;
        try
        {
            result = await CliWrap.Cli.Wrap(binary).WithArguments(["--version"]).WithValidation(CliWrap.CommandResultValidation.None)
                .ExecuteBufferedAsync(timeout.Token).ConfigureAwait(false);
        }
        catch (Exception e) when (e is System.ComponentModel.Win32Exception or OperationCanceledException && !cancellationToken.IsCancellationRequested)
        {
            throw BulwarkException.Refused($"{Path.GetFileName(binary)} --version could not run ({e.Message}); is it a binary for this architecture? Nothing was changed.");
        }
        var match = VersionPattern().Match(result.StandardOutput);
        if (result.ExitCode != 0 || !match.Success)
        {
            throw BulwarkException.Refused($"{Path.GetFileName(binary)} --version exited {result.ExitCode} and printed \"{result.StandardOutput.Trim()}\", not \"Kubernetes vX.Y.Z\"; is it an upstream Kubernetes binary? Nothing was changed.");
        }
        return match.Groups["version"].Value;
    }

    internal static string MinorOf(string version) => MinorPattern().Match(version) is { Success: true } m ? m.Groups["minor"].Value : version;

    [GeneratedRegex(@"Kubernetes (?<version>v\d+\.\d+\.\d+[0-9A-Za-z.+-]*)")]
    private static partial Regex VersionPattern();

    [GeneratedRegex(@"^v(?<minor>\d+\.\d+)\.")]
    private static partial Regex MinorPattern();
}
