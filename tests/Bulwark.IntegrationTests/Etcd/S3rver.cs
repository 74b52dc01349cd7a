using System.Diagnostics;
using System.Net.Sockets;

namespace Bulwark.Tests.Etcd;

/// <summary>
/// A real S3-protocol server: s3rver from npm (installed into .tools/ by `make tools`), on a free 127.0.0.1 port with
/// its own temp folder and one bucket. It keeps each object as files the tests read directly:
/// &lt;bucket&gt;/&lt;key&gt;._S3rver_object and &lt;key&gt;._S3rver_metadata.json (headers, x-amz-meta-* included).
/// Its only credentials are S3RVER / S3RVER.
/// </summary>
public sealed class S3rver : IAsyncDisposable
{
    public const string AccessKey = "S3RVER";
    public const string SecretKey = "S3RVER";

    private readonly Process _process;
    private readonly TempDirectory _dir;

    private S3rver(Process process, TempDirectory dir, int port, string bucket)
    {
        _process = process;
        _dir = dir;
        Port = port;
        Bucket = bucket;
    }

    public int Port { get; }

    public string Bucket { get; }

    /// <summary>host:port as etcd-s3-endpoint takes it (with etcd-s3-insecure: true, as s3rver speaks http).</summary>
    public string Endpoint => $"127.0.0.1:{Port}";

    public static string Program => Path.Combine(RepoPaths.Root, ".tools", "node_modules", ".bin", "s3rver");

    /// <param name="tls">A serving certificate and key (PEM): s3rver then speaks https only.</param>
    public static async Task<S3rver> StartAsync(string bucket = "bulwark-snapshots", (string Certificate, string Key)? tls = null)
    {
        if (!File.Exists(Program))
        {
            throw new InvalidOperationException($"{Program} is missing: run `make tools` (npm install of s3rver into .tools/)");
        }
        var dir = new TempDirectory("bulwark-s3rver");
        var port = FreePorts.Take(1)[0];
        var info = new ProcessStartInfo(Program) { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        string[] tlsArgs = tls is { } pair ? ["--cert", pair.Certificate, "--key", pair.Key] : [];
        foreach (var a in new[] { "-d", dir.Combine("data"), "-a", "127.0.0.1", "-p", port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--silent", "--configure-bucket", bucket }.Concat(tlsArgs))
        {
            info.ArgumentList.Add(a);
        }
        Directory.CreateDirectory(dir.Combine("data"));
        var process = Process.Start(info)!;
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var server = new S3rver(process, dir, port, bucket);
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (true)
        {
            try
            {
                using var probe = new TcpClient();
                await probe.ConnectAsync("127.0.0.1", port, TestContext.Current.CancellationToken);
                // The bucket is configured just after the port opens.
                if (Directory.Exists(server.BucketDir))
                {
                    return server;
                }
            }
            catch (SocketException) when (DateTime.UtcNow < deadline && !process.HasExited)
            {
            }
            if (DateTime.UtcNow >= deadline || process.HasExited)
            {
                await server.DisposeAsync();
                throw new InvalidOperationException($"s3rver did not start on 127.0.0.1:{port}");
            }
            await Task.Delay(100, TestContext.Current.CancellationToken);
        }
    }

    public string BucketDir => _dir.Combine("data", Bucket);

    /// <summary>The keys of the objects in the bucket, as s3rver stores them.</summary>
    public IReadOnlyList<string> Keys(string prefix = "") =>
        Directory.Exists(BucketDir)
            ? Directory.EnumerateFiles(BucketDir, "*._S3rver_object", SearchOption.AllDirectories)
                .Select(f => Path.GetRelativePath(BucketDir, f)[..^"._S3rver_object".Length])
                .Where(k => k.StartsWith(prefix, StringComparison.Ordinal))
                .Order(StringComparer.Ordinal)
                .ToList()
            : [];

    public byte[] ObjectBytes(string key) => File.ReadAllBytes(Path.Combine(BucketDir, key + "._S3rver_object"));

    /// <summary>The object's stored headers (content-type, x-amz-meta-*).</summary>
    public IReadOnlyDictionary<string, string> ObjectHeaders(string key)
    {
        using var json = System.Text.Json.JsonDocument.Parse(File.ReadAllText(Path.Combine(BucketDir, key + "._S3rver_metadata.json")));
        return json.RootElement.EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetString() ?? "", StringComparer.OrdinalIgnoreCase);
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill();
                await _process.WaitForExitAsync(CancellationToken.None);
            }
        }
        catch (InvalidOperationException)
        {
        }
        _process.Dispose();
        _dir.Dispose();
    }
}
