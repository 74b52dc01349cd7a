using Bulwark.Compliance.Catalog;
using Bulwark.Compliance.Evaluation;
using Bulwark.Compliance.Evidence;
using Bulwark.Processes;

namespace Bulwark.Compliance;

/// <summary>What to audit and how: the node, the catalogs, whether catalog shell commands may run.</summary>
public sealed record AuditRequest(NodePaths Node, IReadOnlyList<Catalog.Catalog> Catalogs, bool AllowExec)
{
    /// <summary>The catalog whose checks STIG rules name in uses: (normally the built-in CIS catalog).</summary>
    public Catalog.Catalog? Referenced { get; init; }

    public TimeSpan ExecTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>The version of the tool written into reports.</summary>
    public string ToolVersion { get; init; } = "0.0.0";

    /// <summary>The Kubernetes API for checks with live evidence; null when the audit reads the node only.</summary>
    public ClusterConnection? Cluster { get; init; }
}

/// <summary>Runs every check of the requested catalogs against one node and returns the report.</summary>
public sealed class AuditRunner
{
    private readonly AuditRequest _request;
    private readonly AccountNames _accounts;
    private readonly DocumentCache _documents = new();
    private readonly Dictionary<CatalogSettings, (VariableResolver Variables, EvidenceCollector Collector)> _contexts = [];
    private readonly Dictionary<string, CheckResult> _referencedResults = new(StringComparer.Ordinal);

    private AuditRunner(AuditRequest request)
    {
        _request = request;
        _accounts = new AccountNames(request.Node);
    }

    public static async Task<AuditReport> RunAsync(AuditRequest request, CancellationToken cancellationToken = default)
    {
        var started = DateTimeOffset.UtcNow;
        var runner = new AuditRunner(request);
        var benchmarks = new List<BenchmarkResult>();
        foreach (var catalog in request.Catalogs)
        {
            benchmarks.Add(await runner.RunCatalogAsync(catalog, cancellationToken).ConfigureAwait(false));
        }
        var node = request.Node;
        return new AuditReport("bulwark", request.ToolVersion, started, DateTimeOffset.UtcNow,
            new AuditedNode(Hostname(node), node.Root.Path, node.DataDir, node.EtcDir), benchmarks);
    }

    private async Task<BenchmarkResult> RunCatalogAsync(Catalog.Catalog catalog, CancellationToken cancellationToken)
    {
        var sections = new List<SectionResult>();
        foreach (var controls in catalog.Controls)
        {
            foreach (var group in controls.Groups)
            {
                var results = new List<CheckResult>();
                foreach (var check in group.Checks)
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    // Checks of the referenced catalog are evaluated once, whether reported or used by STIG rules.
                    results.Add(ReferenceEquals(catalog, _request.Referenced)
                        ? await ReferencedAsync(check.Id, check, cancellationToken).ConfigureAwait(false)
                        : await RunCheckAsync(catalog, check, cancellationToken).ConfigureAwait(false));
                }
                sections.Add(new SectionResult(group.Id, group.Text, results));
            }
        }
        var first = catalog.Controls.FirstOrDefault();
        var title = catalog.Name.StartsWith("cis-", StringComparison.Ordinal) ? "CIS Kubernetes Benchmark" : first?.Text ?? catalog.Name;
        var version = first?.Version ?? "";
        return new BenchmarkResult(catalog.Name, title, version.StartsWith("cis-", StringComparison.Ordinal) ? version[4..] : version, sections)
        {
            StigBenchmarkId = catalog.StigBenchmarkId,
        };
    }

    private async Task<CheckResult> RunCheckAsync(Catalog.Catalog catalog, CheckDefinition check, CancellationToken cancellationToken)
    {
        var own = await EvaluateOwnAsync(catalog, check, cancellationToken).ConfigureAwait(false);
        if (check.Cluster is { } query)
        {
            own = await WithLiveEvidenceAsync(check, query, own, cancellationToken).ConfigureAwait(false);
        }
        if (check.Uses.Count == 0)
        {
            return own ?? Result(check, CheckStatus.Skip, "the check has no tests", []);
        }
        var used = new List<CheckResult>();
        foreach (var id in check.Uses)
        {
            used.Add(await ReferencedAsync(id, check, cancellationToken).ConfigureAwait(false));
        }
        if (own is not null)
        {
            used.Add(own);
        }
        return Combine(check, used);
    }

    /// <summary>
    /// Adds a check's live evidence when an apiserver answers: a manual check takes the live result, an automated one the
    /// worse of both. Without an apiserver the offline result stands, and a manual check says why nothing was read.
    /// </summary>
    private async Task<CheckResult?> WithLiveEvidenceAsync(CheckDefinition check, ClusterQuery query, CheckResult? own, CancellationToken cancellationToken)
    {
        if (_request.Cluster?.Rules is not { } rules)
        {
            var why = _request.Cluster?.Unavailable ?? "this audit reads the node only";
            return own is { Status: CheckStatus.Manual } ? own with { Reason = $"{own.Reason} No live evidence: {why}." } : own;
        }
        ClusterVerdict verdict;
        try
        {
            verdict = await rules.EvaluateAsync(query, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is HttpRequestException or Kube.KubeApiException or System.Text.Json.JsonException or OperationCanceledException && !cancellationToken.IsCancellationRequested)
        {
            return Result(check, CheckStatus.Error, $"the Kubernetes API could not be read for {query.Rule}: {e.Message}. " +
                "Check that the apiserver is up and the kubeconfig's user may list these objects, or audit with --offline", []);
        }
        var live = Result(check, verdict.Passed ? CheckStatus.Pass : check.Scored ? CheckStatus.Fail : CheckStatus.Warn,
            verdict.Passed ? null : verdict.Summary, verdict.Records) with { Automated = true };
        return own is null or { Status: CheckStatus.Manual } ? live : Combine(check, [own, live]);
    }

    /// <summary>The check's own evaluation; null when it has nothing of its own (only uses:).</summary>
    private async Task<CheckResult?> EvaluateOwnAsync(Catalog.Catalog catalog, CheckDefinition check, CancellationToken cancellationToken)
    {
        if (check.Invalid is { } invalid)
        {
            return Result(check, CheckStatus.Error, $"the check cannot be evaluated: {invalid}", []);
        }
        switch (check.Type)
        {
            case CheckType.Manual:
                return Result(check, CheckStatus.Manual, check.Reason ?? "this check needs a person to review it", []);
            case CheckType.Skip:
                return Result(check, CheckStatus.Skip, check.Reason ?? "the catalog marks this check as skipped", []);
        }
        if (check.Tests is null)
        {
            return null;
        }
        var (variables, collector) = Context(catalog.Settings);
        CollectedEvidence evidence;
        try
        {
            var spec = check.Evidence ?? KubeBenchAudit.Translate(
                check.Audit is null ? null : variables.ExpandCatalogVariables(check.Audit),
                check.AuditConfig is null ? null : variables.ExpandCatalogVariables(check.AuditConfig),
                catalog.Settings.Components);
            if (spec is not null)
            {
                evidence = collector.Collect(spec);
            }
            else if (check.Audit is null && check.AuditConfig is null)
            {
                return Result(check, CheckStatus.Skip, "the check names no evidence to read (no evidence: block and no audit: command)", []);
            }
            else if (!_request.AllowExec)
            {
                return Result(check, CheckStatus.Skip,
                    $"the check's evidence comes from a shell command ({check.Audit ?? check.AuditConfig}); Bulwark runs catalog commands only with --allow-exec", []);
            }
            else
            {
                evidence = await ExecAsync(check, variables, cancellationToken).ConfigureAwait(false);
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or InvalidDataException or ProcessTimeoutException or ProgramNotFoundException or FormatException)
        {
            return Result(check, CheckStatus.Error, $"the evidence could not be read: {e.Message}", []);
        }
        catch (CatalogException e)
        {
            return Result(check, CheckStatus.Error, $"the check cannot be evaluated ({check.Location}): {e.Message}", []);
        }
        if (evidence.Missing is { } missing)
        {
            var status = missing.Policy switch
            {
                MissingPolicy.Pass => CheckStatus.Pass,
                MissingPolicy.NotApplicable => CheckStatus.NotApplicable,
                _ => check.Scored ? CheckStatus.Fail : CheckStatus.Warn,
            };
            return Result(check, status, missing.Reason, [new EvidenceRecord("evidence", "(absent)", "present", missing.Reason, missing.Policy != MissingPolicy.Fail)]);
        }
        TestVerdict verdict;
        try
        {
            verdict = CheckEvaluator.Evaluate(check.Tests, evidence, check.UseMultipleValues);
        }
        catch (Exception e) when (e is FormatException or ArgumentException or System.Text.RegularExpressions.RegexMatchTimeoutException)
        {
            return Result(check, CheckStatus.Error, $"the check's tests could not be evaluated ({check.Location}): {e.Message}", []);
        }
        if (verdict.Passed)
        {
            return Result(check, CheckStatus.Pass, null, verdict.Records);
        }
        var failing = verdict.Records.Where(r => !r.Passed).Select(r => $"{r.Subject} is {r.Actual} (expected {r.Expected}) in {r.Source}");
        return Result(check, check.Scored ? CheckStatus.Fail : CheckStatus.Warn, string.Join("; ", failing), verdict.Records);
    }

    /// <summary>
    /// Runs a check's audit and audit_config commands with kube-bench's semantics (check/check.go): the evidence is
    /// stdout; a command that exits non-zero is a failure of the check (so `ps | grep` for a process that is not
    /// running fails, as does a command that only complains on stderr and prints nothing); an audit_config command
    /// that fails fails the check too, and one that prints nothing (kube-bench's `if test -e FILE; then cat FILE; fi`
    /// for a missing file) leaves the tests to the audit's output.
    /// </summary>
    private async Task<CollectedEvidence> ExecAsync(CheckDefinition check, VariableResolver variables, CancellationToken cancellationToken)
    {
        var segments = new List<EvidenceSegment>();
        StructuredDocument? config = null;
        if (check.Audit is { } audit)
        {
            var command = variables.ExpandCatalogVariables(audit);
            var result = await ShellAsync(command, cancellationToken).ConfigureAwait(false);
            if (result.ExitCode != 0)
            {
                return Failed($"the audit command exited with status {result.ExitCode}{Stderr(result)}: {command}");
            }
            segments.Add(new EvidenceSegment($"audit command: {command}", result.StandardOutput));
        }
        if (check.AuditConfig is { } auditConfig)
        {
            var command = variables.ExpandCatalogVariables(auditConfig);
            var result = await ShellAsync(command, cancellationToken).ConfigureAwait(false);
            if (result.ExitCode != 0)
            {
                return Failed($"the audit_config command exited with status {result.ExitCode}{Stderr(result)}: {command}");
            }
            if (result.StandardOutput.Trim().Length > 0)
            {
                config = StructuredDocument.Parse(result.StandardOutput, $"audit_config command: {command}");
            }
        }
        return new CollectedEvidence(segments, config, new Dictionary<string, string>(), null, null);
    }

    private static CollectedEvidence Failed(string reason) =>
        new([], null, new Dictionary<string, string>(), null, new MissingEvidence(MissingPolicy.Fail, reason));

    private static string Stderr(ProcessResult result) =>
        result.StandardError.Trim() is { Length: > 0 } e ? $" (stderr: {(e.Length > 200 ? e[..200] + "…" : e)})" : "";

    /// <summary>Only reached with --allow-exec: the catalog's command text is a shell command by definition.</summary>
    private Task<ProcessResult> ShellAsync(string command, CancellationToken cancellationToken) =>
        ProcessRunner.RunAsync(new ProcessSpec("/bin/sh", ["-c", command]) { Timeout = _request.ExecTimeout }, cancellationToken);

    private async Task<CheckResult> ReferencedAsync(string id, CheckDefinition by, CancellationToken cancellationToken)
    {
        if (_referencedResults.TryGetValue(id, out var known))
        {
            return known;
        }
        var catalog = _request.Referenced ?? throw new CatalogException($"{by.Location}: check {by.Id} uses {id}, but no catalog to take it from was loaded.");
        var check = catalog.AllChecks.FirstOrDefault(c => c.Id == id)
            ?? throw new CatalogException($"{by.Location}: check {by.Id} uses {id}, which is not a check of {catalog.Name}; fix the id.");
        var result = await RunCheckAsync(catalog, check, cancellationToken).ConfigureAwait(false);
        _referencedResults[id] = result;
        return result;
    }

    /// <summary>A rule that stands for several checks: any failure is a finding; all not applicable is not applicable.</summary>
    private CheckResult Combine(CheckDefinition check, IReadOnlyList<CheckResult> used)
    {
        CheckStatus status;
        if (used.Any(u => u.Status is CheckStatus.Fail or CheckStatus.Warn))
        {
            status = check.Scored ? CheckStatus.Fail : CheckStatus.Warn;
        }
        else if (used.Any(u => u.Status == CheckStatus.Error))
        {
            status = CheckStatus.Error;
        }
        else if (used.Any(u => u.Status == CheckStatus.Manual))
        {
            status = CheckStatus.Manual;
        }
        else if (used.Any(u => u.Status == CheckStatus.Skip))
        {
            status = CheckStatus.Skip;
        }
        else if (used.All(u => u.Status == CheckStatus.NotApplicable))
        {
            status = CheckStatus.NotApplicable;
        }
        else
        {
            status = CheckStatus.Pass;
        }
        var reasons = used.Where(u => u.Reason is not null && (status == CheckStatus.Pass || u.Status == status || u.Status is CheckStatus.Warn or CheckStatus.Error))
            .Select(u => $"{(check.Uses.Contains(u.Id) ? "CIS " + u.Id + ": " : "")}{u.Reason}").ToList();
        var remediation = check.Remediation.Length > 0 ? check.Remediation : string.Join("\n", used.Select(u => u.Remediation).Where(r => r.Length > 0).Distinct());
        var evidence = used.SelectMany(u => u.Evidence).ToList();
        return Result(check, status, reasons.Count == 0 ? null : string.Join("; ", reasons), evidence) with { Remediation = remediation };
    }

    private CheckResult Result(CheckDefinition check, CheckStatus status, string? reason, IReadOnlyList<EvidenceRecord> evidence)
    {
        var references = check.References;
        if (check.Uses.Count > 0)
        {
            references = references with { Cis = references.Cis.Concat(check.Uses).Distinct().ToList() };
        }
        return new CheckResult(check.Id, check.Text, status, check.Severity, check.Level, check.Scored, check.Type == CheckType.Automated,
            reason is null ? null : _request.Node.ExpandPlaceholders(reason), evidence, _request.Node.ExpandPlaceholders(check.Remediation), references, check.Stig);
    }

    private (VariableResolver, EvidenceCollector) Context(CatalogSettings settings)
    {
        if (!_contexts.TryGetValue(settings, out var context))
        {
            var args = new ComponentArgsReader(_request.Node, settings.Components);
            var variables = new VariableResolver(_request.Node, settings, args, _documents);
            context = (variables, new EvidenceCollector(_request.Node, variables, args, _accounts, _documents));
            _contexts[settings] = context;
        }
        return context;
    }

    private static string Hostname(NodePaths node)
    {
        var file = node.Resolve("/etc/hostname");
        return !node.Root.IsReal && File.Exists(file) ? File.ReadAllText(file).Trim() : Environment.MachineName;
    }
}
