using System.Text.Json;
using Bulwark.Crypto;
using CliWrap;
using CliWrap.Buffered;

namespace Bulwark.Pipeline;

/// <summary>
/// The vulnerability stage: Trivy, offline, through CliWrap with an argument array and a scrubbed environment.
/// The DB is checked before the run (fail closed), each scan gets its own cache dir, and the verdict comes from
/// the parsed JSON report, never from Trivy's exit code alone.
/// </summary>
public sealed class TrivyStage(TrivySettings settings, CryptoService crypto, TimeProvider time)
{
    public const string DbFolder = "db";

    /// <summary>Checks the prepared cache dir holds a supported, fresh trivy-db. Throws with the fix otherwise.</summary>
    public TrivyDbMetadata Preflight(string dbCacheDirectory)
    {
        var db = Path.Combine(dbCacheDirectory, DbFolder, "trivy.db");
        var metadataPath = Path.Combine(dbCacheDirectory, DbFolder, "metadata.json");
        const string Fix = "Download the DB on a connected host (trivy image --download-db-only --cache-dir DIR) and copy DIR here; pass it with --trivy-cache DIR.";
        if (!File.Exists(db) || !File.Exists(metadataPath))
        {
            throw new PipelineException($"trivy preflight: no vulnerability DB in {dbCacheDirectory} (expected {DbFolder}/trivy.db and {DbFolder}/metadata.json). {Fix}", PipelineFailure.Tool);
        }
        TrivyDbMetadata metadata;
        try
        {
            metadata = JsonSerializer.Deserialize(File.ReadAllText(metadataPath), TrivyJsonContext.Default.TrivyDbMetadata)
                ?? throw new JsonException("empty");
        }
        catch (JsonException e)
        {
            throw new PipelineException($"trivy preflight: {metadataPath} is not trivy-db metadata ({e.Message}). {Fix}", PipelineFailure.Tool, e);
        }
        if (!settings.DbSchemaVersions.Contains(metadata.Version))
        {
            throw new PipelineException($"trivy preflight: {metadataPath}: DB schema version {metadata.Version} is not supported " +
                $"(supported: {string.Join(", ", settings.DbSchemaVersions)}). Download the DB with a Trivy release that uses schema {settings.DbSchemaVersions.Max()}.", PipelineFailure.Tool);
        }
        var age = time.GetUtcNow() - metadata.UpdatedAt;
        if (age > settings.MaxDbAge)
        {
            throw new PipelineException($"trivy preflight: the DB in {dbCacheDirectory} was updated {metadata.UpdatedAt:yyyy-MM-dd HH:mm}Z, {age.TotalHours:0} hours ago; " +
                $"the policy allows {settings.MaxDbAge.TotalHours:0} (max-db-age-hours in pipeline/stages.yaml). {Fix}", PipelineFailure.Tool);
        }
        return metadata;
    }

    /// <summary>The run for an image archive (docker-archive or OCI layout tar): <c>trivy image --input</c>.</summary>
    public TrivyInvocation PlanImage(string archive, string workDirectory) => Plan(["image", "--input", archive], workDirectory);

    /// <summary>The run for Bulwark's own CycloneDX SBOM: <c>trivy sbom</c>.</summary>
    public TrivyInvocation PlanSbom(string sbomPath, string workDirectory) => Plan(["sbom"], workDirectory, sbomPath);

    private TrivyInvocation Plan(string[] head, string workDirectory, string? target = null)
    {
        // A cache dir per scan: the prepared DB is linked in, the scan cache starts empty and is thrown away.
        var cache = Path.Combine(workDirectory, "cache");
        var report = Path.Combine(workDirectory, "trivy-report.json");
        var arguments = new List<string>(head)
        {
            "--cache-dir", cache,
            "--format", "json",
            "--output", report,
            "--scanners", "vuln",
            "--exit-code", settings.VulnerabilitiesExitCode.ToString(System.Globalization.CultureInfo.InvariantCulture),
            "--quiet",
        };
        arguments.AddRange(settings.OfflineFlags);
        if (target is not null)
        {
            arguments.Add(target);
        }
        var environment = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["PATH"] = "/usr/sbin:/usr/bin:/sbin:/bin",
            ["HOME"] = workDirectory,
            ["TMPDIR"] = Path.Combine(workDirectory, "tmp"),
            ["LANG"] = "C.UTF-8",
        };
        return new TrivyInvocation(settings.Binary, arguments, environment, report, cache);
    }

    /// <summary>Prepares the per-scan folders, checks the binary's checksum, runs Trivy and parses its report.</summary>
    public async Task<TrivyReport> RunAsync(TrivyInvocation run, string dbCacheDirectory, CancellationToken cancellationToken)
    {
        Preflight(dbCacheDirectory);
        await VerifyBinaryAsync(cancellationToken).ConfigureAwait(false);
        Directory.CreateDirectory(run.Environment["TMPDIR"]);
        var db = Path.Combine(run.CacheDirectory, DbFolder);
        Directory.CreateDirectory(db);
        foreach (var file in Directory.EnumerateFiles(Path.Combine(dbCacheDirectory, DbFolder)))
        {
            File.Copy(file, Path.Combine(db, Path.GetFileName(file)), overwrite: true);
        }
        // Scrub: every inherited variable is removed, then only the planned ones are set.
        var environment = new Dictionary<string, string?>(StringComparer.Ordinal);
        foreach (System.Collections.DictionaryEntry inherited in System.Environment.GetEnvironmentVariables())
        {
            environment[(string)inherited.Key] = null;
        }
        foreach (var (key, value) in run.Environment)
        {
            environment[key] = value;
        }
        BufferedCommandResult result;
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(settings.Timeout);
        try
        {
            result = await CliWrap.Cli.Wrap(run.Program).WithArguments(run.Arguments).WithEnvironmentVariables(environment)
                .WithWorkingDirectory(Path.GetDirectoryName(run.ReportPath)!).WithValidation(CommandResultValidation.None)
                .ExecuteBufferedAsync(timeout.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new PipelineException($"trivy did not finish within {settings.Timeout.TotalSeconds:0} s (timeout-seconds in pipeline/stages.yaml)", PipelineFailure.Tool);
        }
        if (result.ExitCode != 0 && result.ExitCode != settings.VulnerabilitiesExitCode)
        {
            throw new PipelineException($"trivy failed (exit {result.ExitCode}): {LastLines(result.StandardError)}", PipelineFailure.Tool);
        }
        if (!File.Exists(run.ReportPath))
        {
            throw new PipelineException($"trivy exited {result.ExitCode} but wrote no report at {run.ReportPath}; the scan result is unknown, so the gate fails closed", PipelineFailure.Tool);
        }
        return ParseReport(await File.ReadAllTextAsync(run.ReportPath, cancellationToken).ConfigureAwait(false), run.ReportPath);
    }

    private async Task VerifyBinaryAsync(CancellationToken cancellationToken)
    {
        if (settings.Sha256.Length != 64)
        {
            throw new PipelineException($"trivy: no pinned checksum for {settings.Binary}; set trivy.sha256 in pipeline/stages.yaml (sha256sum {settings.Binary})", PipelineFailure.Input);
        }
        if (!File.Exists(settings.Binary))
        {
            throw new PipelineException($"trivy: {settings.Binary} does not exist; install the pinned Trivy release there or set trivy.binary in pipeline/stages.yaml", PipelineFailure.Tool);
        }
        var actual = await Digests.Sha256FileAsync(crypto, settings.Binary, cancellationToken).ConfigureAwait(false);
        if (!CryptoService.FixedTimeEquals(System.Text.Encoding.ASCII.GetBytes(actual), System.Text.Encoding.ASCII.GetBytes(settings.Sha256.ToLowerInvariant())))
        {
            throw new PipelineException($"trivy: {settings.Binary} has sha256 {actual}, not the pinned {settings.Sha256}; refusing to run it. Reinstall the pinned release or update trivy.sha256.", PipelineFailure.Tool);
        }
    }

    /// <summary>Parses a Trivy JSON report (SchemaVersion 2).</summary>
    public static TrivyReport ParseReport(string json, string whereForErrors)
    {
        TrivyReport? report;
        try
        {
            report = JsonSerializer.Deserialize(json, TrivyJsonContext.Default.TrivyReport);
        }
        catch (JsonException e)
        {
            throw new PipelineException($"{whereForErrors}: not a Trivy JSON report ({e.Message})", PipelineFailure.Tool, e);
        }
        if (report is null || report.SchemaVersion != 2)
        {
            throw new PipelineException($"{whereForErrors}: Trivy report SchemaVersion {report?.SchemaVersion} is not supported (expected 2)", PipelineFailure.Tool);
        }
        return report;
    }

    private static string LastLines(string text)
    {
        var lines = text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        return lines.Length == 0 ? "(no output)" : string.Join(" | ", lines.TakeLast(3));
    }
}
