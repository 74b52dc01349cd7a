using System.Globalization;
using Bulwark.Config;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Logging;

namespace Bulwark.Runtime;

/// <summary>
/// The node runtime as one piece, for the server and agent stages and <c>bulwark node check</c>: containerd started
/// with the rendered config and registries, then the air-gap images imported; the check run against it.
/// </summary>
public static class NodeRuntime
{
    /// <summary>Starts containerd and imports agent/images; progress lines go to <paramref name="output"/>.</summary>
    public static async Task<(ContainerdRuntime Runtime, ImportReport Images)> StartAsync(EffectiveConfig config, TextWriter output, bool terminal,
        ILogger? logger = null, CancellationToken cancellationToken = default)
    {
        var settings = ContainerdSettings.From(config);
        var runtime = await ContainerdRuntime.StartAsync(settings, logger, cancellationToken: cancellationToken).ConfigureAwait(false);
        try
        {
            foreach (var warning in runtime.Warnings)
            {
                output.WriteLine("  warning: " + warning);
            }
            var importer = new ImageImporter(settings.Paths.Socket, logger);
            var report = await importer.ImportDirectoryAsync(settings.Paths.ImagesDir, settings.Paths.ImportCacheFile,
                (name, size) => terminal && size > 64L << 20 ? Progress(output, name, size) : null, cancellationToken).ConfigureAwait(false);
            return (runtime, report);
        }
        catch
        {
            await runtime.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>One line per import: what came in, what was cached, what failed (by archive name).</summary>
    public static string Describe(ImportReport report, string imagesDir)
    {
        if (report.Imported.Count == 0 && report.Failed.Count == 0)
        {
            return $"no image archives in {imagesDir}";
        }
        var fresh = report.Imported.Where(i => !i.Cached).ToList();
        var text = string.Create(CultureInfo.InvariantCulture,
            $"{fresh.Count} archive(s) imported ({fresh.Sum(i => i.Images.Count)} images, {fresh.Sum(i => i.Bytes) / 1e6:0.#} MB in {fresh.Sum(i => i.Duration.TotalSeconds):0.0} s), {report.Imported.Count - fresh.Count} unchanged");
        if (report.Failed.Count > 0)
        {
            text += $"; {report.Failed.Count} skipped: " + string.Join("; ", report.Failed.Select(f => f.Reason));
        }
        return text;
    }

    /// <summary>
    /// <c>bulwark node check</c> against the node's running containerd; when none answers, containerd is started for
    /// the check (with the node's config and air-gap images) and stopped afterwards.
    /// </summary>
    public static async Task<NodeCheckReport> CheckAsync(EffectiveConfig config, Action<NodeCheckStep> onStep, Action<string> say,
        ILogger? logger = null, CancellationToken cancellationToken = default)
    {
        var settings = ContainerdSettings.From(config);
        ContainerdRuntime? started = null;
        if (!await AnswersAsync(settings.Paths.Socket, cancellationToken).ConfigureAwait(false))
        {
            say($"containerd is not running at {settings.Paths.Socket}: starting it for the check");
            (started, var images) = await StartAsync(config, TextWriter.Null, false, logger ?? NullLogger.Instance, cancellationToken).ConfigureAwait(false);
            say("images: " + Describe(images, settings.Paths.ImagesDir));
        }
        try
        {
            using var cri = new CriClient(settings.Paths.Socket);
            return await new NodeCheck(cri, settings, config.Get(ConfigKeys.NodeIp)).RunAsync(onStep, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            if (started is not null)
            {
                await started.DisposeAsync().ConfigureAwait(false);
            }
        }
    }

    private static async Task<bool> AnswersAsync(string socket, CancellationToken cancellationToken)
    {
        if (!File.Exists(socket))
        {
            return false;
        }
        using var cri = new CriClient(socket);
        try
        {
            await cri.StatusAsync(cancellationToken).ConfigureAwait(false);
            return true;
        }
        catch (Exception e) when (e is Grpc.Core.RpcException or HttpRequestException)
        {
            return false;
        }
    }

    private static Action<long> Progress(TextWriter output, string name, long compressedSize)
    {
        var last = DateTime.MinValue;
        return bytes =>
        {
            if (DateTime.UtcNow - last < TimeSpan.FromSeconds(1))
            {
                return;
            }
            last = DateTime.UtcNow;
            output.Write(string.Create(CultureInfo.InvariantCulture, $"\r  importing {name}: {bytes / 1e6:0} MB read (archive {compressedSize / 1e6:0} MB)   "));
            output.Flush();
        };
    }
}
