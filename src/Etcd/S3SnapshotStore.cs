using System.Globalization;
using System.Net;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json;
using Amazon.Runtime;
using Amazon.S3;
using Amazon.S3.Model;
using Bulwark.Airgap;
using Bulwark.FileSystem;

namespace Bulwark.Etcd;

/// <summary>
/// The snapshot folder in an S3 bucket (AWSSDK.S3): one object per snapshot file, under <c>etcd-s3-folder</c>, with its
/// Bulwark metadata and the cluster token fingerprint as object metadata, so a restore can refuse another cluster's
/// snapshot before downloading it. Each call is bounded by etcd-s3-timeout. Errors name the endpoint and bucket, never the secret key.
/// </summary>
public sealed class S3SnapshotStore : IDisposable
{
    /// <summary>Object metadata (x-amz-meta-…) with the token fingerprint, checked before a restore.</summary>
    public const string TokenHashKey = "bulwark-token-hash";
    /// <summary>Object metadata with the whole <see cref="SnapshotMetadata"/> record, base64 JSON.</summary>
    public const string MetadataKey = "bulwark-metadata";
    public const string NodeNameKey = "bulwark-node-name";

    private readonly S3Settings _settings;
    private readonly AmazonS3Client _client;

    public S3SnapshotStore(S3Settings settings)
    {
        _settings = settings;
        if (!settings.Credentials.IsComplete)
        {
            throw new SnapshotException($"etcd-s3 is on but there are no S3 credentials: set etcd-s3-access-key and etcd-s3-secret-key, " +
                $"or {S3Settings.AccessKeyVariable} and {S3Settings.SecretKeyVariable} in the environment");
        }
        var config = new AmazonS3Config
        {
            ServiceURL = settings.ServiceUrl.ToString(),
            AuthenticationRegion = settings.Region,
            // Path-style addressing works against every S3-protocol server (MinIO, Ceph, s3rver) and AWS alike.
            ForcePathStyle = true,
            Timeout = settings.Timeout,
            MaxErrorRetry = 2,
            IgnoreConfiguredEndpointUrls = true,
            // Checksums only where S3 requires them: the trailing checksums the SDK sends by default (aws-chunked)
            // are not understood by every S3-protocol server and would be stored as part of the object.
            RequestChecksumCalculation = RequestChecksumCalculation.WHEN_REQUIRED,
            ResponseChecksumValidation = ResponseChecksumValidation.WHEN_REQUIRED,
            HttpClientFactory = new S3HttpClientFactory(settings),
        };
        _client = new AmazonS3Client(new BasicAWSCredentials(settings.Credentials.AccessKey, settings.Credentials.SecretKey), config);
    }

    public S3Settings Settings => _settings;

    /// <summary>Where snapshots go, for messages: s3://bucket/folder/ at the endpoint.</summary>
    public string Describe => $"s3://{_settings.Bucket}/{_settings.Prefix} at {_settings.ServiceUrl.GetLeftPart(UriPartial.Authority)}";

    /// <summary>Uploads a saved snapshot with its metadata; returns its s3:// location.</summary>
    public async Task<string> UploadAsync(string snapshotPath, SnapshotMetadata metadata, TransferProgress? progress, CancellationToken cancellationToken)
    {
        var key = _settings.KeyOf(metadata.File);
        await CallAsync($"uploading {metadata.File}", async token =>
        {
            await using var file = new FileStream(snapshotPath, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 20, useAsync: true);
            var request = new PutObjectRequest
            {
                BucketName = _settings.Bucket,
                Key = key,
                InputStream = file,
                AutoCloseStream = false,
                // The SDK signs a hash of the whole body instead of aws-chunked encoding (which not every S3-protocol server decodes).
                UseChunkEncoding = false,
                ContentType = SnapshotFormat.Of(metadata.File) == SnapshotCompression.Zip ? "application/zip" : "application/octet-stream",
            };
            request.Metadata.Add(TokenHashKey, metadata.TokenHash);
            request.Metadata.Add(NodeNameKey, metadata.Node);
            request.Metadata.Add(MetadataKey, Convert.ToBase64String(Encoding.UTF8.GetBytes(
                JsonSerializer.Serialize(metadata, SnapshotJsonContext.Default.SnapshotMetadata))));
            if (progress is not null)
            {
                progress.Step($"uploading {metadata.File}", file.Length);
                request.StreamTransferProgress += (_, e) => progress.Add(e.IncrementTransferred);
            }
            await _client.PutObjectAsync(request, token).ConfigureAwait(false);
            progress?.Finish();
        }, cancellationToken).ConfigureAwait(false);
        return _settings.LocationOf(metadata.File);
    }

    /// <summary>Snapshots in the folder (not in sub-folders), newest first, each with the metadata stored on its object.</summary>
    public async Task<IReadOnlyList<SnapshotEntry>> ListAsync(CancellationToken cancellationToken)
    {
        var objects = new List<S3Object>();
        await CallAsync("listing snapshots", async token =>
        {
            var request = new ListObjectsV2Request { BucketName = _settings.Bucket, Prefix = _settings.Prefix, Delimiter = "/" };
            ListObjectsV2Response response;
            do
            {
                response = await _client.ListObjectsV2Async(request, token).ConfigureAwait(false);
                objects.AddRange(response.S3Objects ?? []);
                request.ContinuationToken = response.NextContinuationToken;
            }
            while (response.IsTruncated == true);
        }, cancellationToken).ConfigureAwait(false);

        var entries = new List<SnapshotEntry>();
        foreach (var item in objects.Where(o => !o.Key.EndsWith('/')))
        {
            var file = item.Key[_settings.Prefix.Length..];
            if (file.StartsWith('.'))
            {
                continue;
            }
            var metadata = await HeadMetadataAsync(item.Key, cancellationToken).ConfigureAwait(false);
            var modified = item.LastModified is { } at ? new DateTimeOffset(DateTime.SpecifyKind(at, DateTimeKind.Utc)) : DateTimeOffset.MinValue;
            entries.Add(new SnapshotEntry(metadata?.Name ?? SnapshotFormat.NameOf(file), _settings.LocationOf(file), item.Size ?? 0, modified, metadata));
        }
        return SnapshotStore.NewestFirst(entries);
    }

    public async Task<SnapshotEntry?> FindAsync(string nameOrFile, CancellationToken cancellationToken) =>
        (await ListAsync(cancellationToken).ConfigureAwait(false)).FirstOrDefault(e => e.Name == nameOrFile || e.FileName == nameOrFile);

    /// <summary>Deletes a snapshot object by name. False when there is none.</summary>
    public async Task<bool> DeleteAsync(string nameOrFile, CancellationToken cancellationToken)
    {
        SnapshotStore.RequirePlainName(nameOrFile);
        if (await FindAsync(nameOrFile, cancellationToken).ConfigureAwait(false) is not { } entry)
        {
            return false;
        }
        await DeleteObjectAsync(entry, cancellationToken).ConfigureAwait(false);
        return true;
    }

    /// <summary>The folder's retention (etcd-s3-retention): keeps the newest snapshots named <c>&lt;baseName&gt;-…</c> of the kind; deletes older ones.</summary>
    public async Task<IReadOnlyList<string>> PruneAsync(string baseName, string? kind, int retention, CancellationToken cancellationToken)
    {
        var candidates = SnapshotStore.BeyondRetention(await ListAsync(cancellationToken).ConfigureAwait(false), baseName, kind, retention);
        foreach (var entry in candidates)
        {
            await DeleteObjectAsync(entry, cancellationToken).ConfigureAwait(false);
        }
        return candidates.Select(e => e.Name).ToList();
    }

    /// <summary>
    /// Downloads a listed snapshot into the local snapshot folder (hidden .part, then its metadata, then a rename, as a save does)
    /// and returns its path. The caller checks the token fingerprint of <paramref name="entry"/> first.
    /// </summary>
    public async Task<string> DownloadAsync(SnapshotEntry entry, string directory, TransferProgress? progress, CancellationToken cancellationToken)
    {
        AtomicFile.EnsureDirectory(directory, AtomicFile.PrivateDirectory);
        var final = Path.Combine(directory, entry.FileName);
        if (File.Exists(final))
        {
            throw new SnapshotException($"{final} already exists; restore it by path, or move it away to download {entry.Location} again");
        }
        var part = Path.Combine(directory, "." + entry.FileName + ".part");
        try
        {
            await CallAsync($"downloading {entry.FileName}", async token =>
            {
                using var response = await _client.GetObjectAsync(_settings.Bucket, _settings.KeyOf(entry.FileName), token).ConfigureAwait(false);
                await using var output = new FileStream(part, new FileStreamOptions
                {
                    Mode = FileMode.Create, Access = FileAccess.Write, UnixCreateMode = AtomicFile.Private, BufferSize = 1 << 20,
                });
                progress?.Step($"downloading {entry.FileName}", response.ContentLength);
                var buffer = new byte[1 << 20];
                int read;
                while ((read = await response.ResponseStream.ReadAsync(buffer, token).ConfigureAwait(false)) > 0)
                {
                    await output.WriteAsync(buffer.AsMemory(0, read), token).ConfigureAwait(false);
                    progress?.Add(read);
                }
                output.Flush(flushToDisk: true);
                progress?.Finish();
            }, cancellationToken).ConfigureAwait(false);
            if (entry.Metadata is { } metadata)
            {
                AtomicFile.WriteAllText(SnapshotStore.MetadataPathOf(final), JsonSerializer.Serialize(metadata, SnapshotJsonContext.Default.SnapshotMetadata), AtomicFile.Private);
            }
            File.Move(part, final);
            return final;
        }
        catch
        {
            File.Delete(part);
            throw;
        }
    }

    private async Task DeleteObjectAsync(SnapshotEntry entry, CancellationToken cancellationToken) =>
        await CallAsync($"deleting {entry.FileName}", token => _client.DeleteObjectAsync(_settings.Bucket, _settings.KeyOf(entry.FileName), token), cancellationToken).ConfigureAwait(false);

    /// <summary>The metadata stored on an object; its token fingerprint is the object's own token-hash metadata.</summary>
    private async Task<SnapshotMetadata?> HeadMetadataAsync(string key, CancellationToken cancellationToken)
    {
        GetObjectMetadataResponse? head = null;
        await CallAsync($"reading the metadata of {key}", async token => head = await _client.GetObjectMetadataAsync(_settings.Bucket, key, token).ConfigureAwait(false),
            cancellationToken).ConfigureAwait(false);
        var stored = head!.Metadata[MetadataKey];
        if (string.IsNullOrEmpty(stored))
        {
            return null;
        }
        try
        {
            var metadata = JsonSerializer.Deserialize(Encoding.UTF8.GetString(Convert.FromBase64String(stored)), SnapshotJsonContext.Default.SnapshotMetadata);
            return metadata is null ? null : metadata with { TokenHash = head.Metadata[TokenHashKey] ?? "" };
        }
        catch (Exception e) when (e is FormatException or JsonException)
        {
            return null;
        }
    }

    /// <summary>Runs one S3 call within etcd-s3-timeout and turns its failures into an error an operator can act on.</summary>
    private async Task CallAsync(string what, Func<CancellationToken, Task> call, CancellationToken cancellationToken)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(_settings.Timeout);
        try
        {
            await call(deadline.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException e) when (!cancellationToken.IsCancellationRequested)
        {
            throw new SnapshotException($"S3: {what} in {Describe} took longer than {_settings.Timeout} (etcd-s3-timeout); check the endpoint and network, or raise etcd-s3-timeout", e);
        }
        catch (AmazonS3Exception e)
        {
            throw new SnapshotException($"S3: {what} in {Describe} failed: {Explain(e)}", e);
        }
        catch (Exception e) when (e is AmazonServiceException or AmazonClientException or HttpRequestException or IOException)
        {
            throw new SnapshotException($"S3: {what} in {Describe} failed: {Innermost(e)}. Check etcd-s3-endpoint, etcd-s3-insecure and the endpoint's TLS settings", e);
        }
    }

    private string Explain(AmazonS3Exception e) => e.ErrorCode switch
    {
        "NoSuchBucket" => $"bucket {_settings.Bucket} does not exist; create it or fix etcd-s3-bucket",
        "InvalidAccessKeyId" or "SignatureDoesNotMatch" or "AccessDenied" =>
            $"{e.ErrorCode}: the endpoint refused {_settings.Credentials}; check etcd-s3-access-key and etcd-s3-secret-key (or {S3Settings.AccessKeyVariable}/{S3Settings.SecretKeyVariable})",
        _ => $"{(int)e.StatusCode} {e.ErrorCode}: {e.Message}",
    };

    private static string Innermost(Exception e)
    {
        while (e.InnerException is not null)
        {
            e = e.InnerException;
        }
        return e.Message;
    }

    public void Dispose() => _client.Dispose();

    /// <summary>One HttpClient per store with the endpoint's TLS trust (etcd-s3-endpoint-ca or skip-ssl-verify) and proxy (etcd-s3-proxy).</summary>
    private sealed class S3HttpClientFactory(S3Settings settings) : HttpClientFactory
    {
        public override HttpClient CreateHttpClient(IClientConfig clientConfig)
        {
            var handler = new SocketsHttpHandler { ConnectTimeout = TimeSpan.FromSeconds(30), AutomaticDecompression = DecompressionMethods.None };
            if (settings.SkipSslVerify)
            {
                handler.SslOptions.RemoteCertificateValidationCallback = (_, _, _, _) => true;
            }
            else if (settings.EndpointCa.Length > 0)
            {
                handler.SslOptions.RemoteCertificateValidationCallback = Pki.PrivateCaTrust.Callback(S3Tls.LoadCa(settings.EndpointCa));
            }
            if (settings.Proxy == "none")
            {
                handler.UseProxy = false;
            }
            else if (settings.Proxy.Length > 0)
            {
                handler.Proxy = new WebProxy(new Uri(settings.Proxy));
                handler.UseProxy = true;
            }
            return new HttpClient(handler) { Timeout = settings.Timeout };
        }
    }
}

/// <summary>The CA file named by etcd-s3-endpoint-ca.</summary>
public static class S3Tls
{
    public static X509Certificate2Collection LoadCa(string path)
    {
        if (LoadCaProblem(path) is { } problem)
        {
            throw new SnapshotException($"etcd-s3-endpoint-ca: {problem}");
        }
        var trust = new X509Certificate2Collection();
        trust.ImportFromPemFile(path);
        return trust;
    }

    /// <summary>Null when the file holds at least one PEM certificate, else what is wrong.</summary>
    public static string? LoadCaProblem(string path)
    {
        if (!File.Exists(path))
        {
            return $"{path} does not exist; give the PEM file of the CA that signed the S3 endpoint's certificate";
        }
        try
        {
            var trust = new X509Certificate2Collection();
            trust.ImportFromPemFile(path);
            return trust.Count == 0 ? $"{path} holds no PEM certificate (-----BEGIN CERTIFICATE-----)" : null;
        }
        catch (Exception e) when (e is System.Security.Cryptography.CryptographicException or IOException or UnauthorizedAccessException)
        {
            return $"{path} cannot be read as PEM certificates: {e.Message}";
        }
    }
}
