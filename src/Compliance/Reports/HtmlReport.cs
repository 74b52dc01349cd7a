using System.Globalization;
using System.Net;
using System.Text;

namespace Bulwark.Compliance.Reports;

/// <summary>
/// One self-contained HTML file (no external assets): totals with an inline SVG chart per benchmark, filters by
/// status, severity and text (a little inline JavaScript), then every section with each check's evidence,
/// reason and fix. Failures are expanded; everything else opens on click.
/// </summary>
public static class HtmlReport
{
    private static readonly (CheckStatus Status, string Css, string Label, string Color)[] Palette =
    [
        (CheckStatus.Pass, "pass", "Pass", "#1a7f37"),
        (CheckStatus.Fail, "fail", "Fail", "#cf222e"),
        (CheckStatus.Warn, "warn", "Warn", "#bf8700"),
        (CheckStatus.Manual, "manual", "Manual", "#0969da"),
        (CheckStatus.Skip, "skip", "Skipped", "#6e7781"),
        (CheckStatus.NotApplicable, "na", "Not applicable", "#afb8c1"),
        (CheckStatus.Error, "error", "Could not be evaluated", "#8250df"),
    ];

    public static string Render(AuditReport report)
    {
        var o = new StringBuilder();
        var totals = report.Totals;
        o.Append("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">");
        o.Append("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">");
        o.Append("<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:\">");
        o.Append("<title>Bulwark audit — ").Append(E(report.Node.Hostname)).Append("</title><style>").Append(Css).Append("</style></head><body>");
        o.Append("<header><div><h1>Compliance audit</h1><p class=\"sub\">").Append(E(report.Node.Hostname)).Append(" · ")
            .Append(E(string.Join(" + ", report.Benchmarks.Select(b => $"{b.Title} {b.Version}")))).Append(" · ")
            .Append(report.Finished.UtcDateTime.ToString("yyyy-MM-dd HH:mm 'UTC'", CultureInfo.InvariantCulture)).Append("</p></div>")
            .Append("<div class=\"brand\">").Append(E(report.Tool)).Append(' ').Append(E(report.Version)).Append("</div></header><main>");

        o.Append("<section class=\"summary\"><div id=\"totals\" class=\"totals\">");
        o.Append("<div class=\"big\"><span class=\"n\">").Append(totals.Total).Append("</span><span>checks</span></div>");
        foreach (var (status, css, label, _) in Palette)
        {
            o.Append("<div class=\"big ").Append(css).Append("\"><span class=\"n\">").Append(totals.Get(status)).Append("</span><span>").Append(label).Append("</span></div>");
        }
        o.Append("</div><div class=\"charts\">");
        foreach (var benchmark in report.Benchmarks)
        {
            o.Append(Chart(benchmark));
        }
        o.Append("</div>");
        o.Append(totals.Fail == 0
            ? "<p class=\"verdict ok\">No automated check failed."
            : $"<p class=\"verdict bad\">{totals.Fail} check(s) failed; each shows what was found, where, and the fix.");
        if (totals.Manual > 0)
        {
            o.Append(' ').Append(totals.Manual).Append(" checks need a person (Manual); each says what to look at.");
        }
        o.Append("</p></section>");

        o.Append("<nav class=\"filters\" aria-label=\"Filters\"><span class=\"label\">Show</span>");
        foreach (var (status, css, label, _) in Palette)
        {
            o.Append("<label class=\"chip ").Append(css).Append("\"><input type=\"checkbox\" name=\"status\" value=\"").Append(status.Label()).Append("\" checked> ")
                .Append(label).Append(" <b>").Append(totals.Get(status)).Append("</b></label>");
        }
        o.Append("<select id=\"severity\" aria-label=\"Severity\"><option value=\"\">All severities</option><option value=\"high\">High / CAT I</option>")
            .Append("<option value=\"medium\">Medium / CAT II</option><option value=\"low\">Low / CAT III</option></select>");
        o.Append("<input id=\"search\" type=\"search\" placeholder=\"Search id, title, evidence…\" aria-label=\"Search\"><span id=\"shown\" class=\"shown\"></span></nav>");

        foreach (var benchmark in report.Benchmarks)
        {
            o.Append("<section class=\"benchmark\"><h2>").Append(E(benchmark.Title)).Append(" <small>").Append(E(benchmark.Version)).Append("</small></h2>");
            foreach (var section in benchmark.Sections)
            {
                var t = StatusTotals.Of(section.Checks);
                o.Append("<div class=\"section\"><h3><span>").Append(E(section.Id)).Append("</span> ").Append(E(section.Text)).Append("<span class=\"counts\">");
                foreach (var (status, css, label, _) in Palette)
                {
                    if (t.Get(status) > 0)
                    {
                        o.Append("<i class=\"").Append(css).Append("\" title=\"").Append(label).Append("\">").Append(t.Get(status)).Append("</i>");
                    }
                }
                o.Append("</span></h3>");
                foreach (var check in section.Checks)
                {
                    Check(o, check);
                }
                o.Append("</div>");
            }
            o.Append("</section>");
        }
        o.Append("</main><footer>Generated by ").Append(E(report.Tool)).Append(' ').Append(E(report.Version))
            .Append(" · evidence read natively from the node (host root ").Append(E(report.Node.HostRoot)).Append(", data dir ").Append(E(report.Node.DataDir)).Append(")</footer>");
        o.Append("<script>").Append(Script).Append("</script></body></html>\n");
        return o.ToString();
    }

    private static void Check(StringBuilder o, CheckResult check)
    {
        var css = Palette.First(p => p.Status == check.Status).Css;
        o.Append("<details class=\"check\" data-status=\"").Append(check.Status.Label()).Append("\" data-severity=\"").Append(E(check.Severity)).Append('"');
        o.Append(check.Status == CheckStatus.Fail ? " open>" : ">");
        o.Append("<summary><span class=\"pill ").Append(css).Append("\">").Append(check.Status == CheckStatus.NotApplicable ? "N/A" : check.Status.Label()).Append("</span>")
            .Append("<span class=\"id\">").Append(E(check.Id)).Append("</span><span class=\"title\">").Append(E(check.Title)).Append("</span>")
            .Append("<span class=\"sev ").Append(E(check.Severity)).Append("\">").Append(E(SeverityLabel(check))).Append("</span></summary><div class=\"body\">");
        if (check.Reason is not null)
        {
            o.Append("<p class=\"reason\">").Append(E(check.Reason)).Append("</p>");
        }
        if (check.Evidence.Count > 0)
        {
            o.Append("<table><thead><tr><th></th><th>Looked at</th><th>Found</th><th>Expected</th><th>Read from</th></tr></thead><tbody>");
            // Findings first: in a check over many files, the one that failed is what the reader is looking for.
            foreach (var e in check.Evidence.OrderBy(e => e.Passed))
            {
                o.Append("<tr class=\"").Append(e.Passed ? "ok" : "bad").Append("\"><td>").Append(e.Passed ? "✓" : "✗").Append("</td><td><code>").Append(E(e.Subject))
                    .Append("</code></td><td><code>").Append(E(e.Actual)).Append("</code></td><td>").Append(E(e.Expected)).Append("</td><td class=\"src\">").Append(E(e.Source)).Append("</td></tr>");
            }
            o.Append("</tbody></table>");
        }
        if (check.Remediation.Length > 0)
        {
            o.Append("<p class=\"fix\"><b>Fix</b> ").Append(E(check.Remediation)).Append("</p>");
        }
        var refs = new List<string>();
        refs.AddRange(check.References.Cis.Select(c => "CIS " + c));
        refs.AddRange(check.References.Stig);
        if (check.Stig is { } stig)
        {
            refs.Add(stig.RuleId);
            refs.Add(stig.StigId);
            refs.AddRange(stig.Cci);
        }
        refs.AddRange(check.References.Controls);
        if (refs.Count > 0)
        {
            o.Append("<p class=\"refs\">").Append(string.Join(" ", refs.Select(r => $"<span>{E(r)}</span>"))).Append("</p>");
        }
        o.Append("</div></details>");
    }

    private static string SeverityLabel(CheckResult check)
    {
        var sev = check.Stig is not null
            ? check.Severity switch { "high" => "CAT I", "low" => "CAT III", _ => "CAT II" }
            : check.Severity;
        return check.Level > 0 ? $"L{check.Level} · {sev}" : sev;
    }

    /// <summary>A donut of the benchmark's results (circumference 100, so each dash length is a percentage).</summary>
    private static string Chart(BenchmarkResult benchmark)
    {
        var t = benchmark.Totals;
        var o = new StringBuilder();
        o.Append("<figure class=\"chart\"><svg viewBox=\"0 0 42 42\" width=\"150\" height=\"150\" role=\"img\" aria-label=\"")
            .Append(E($"{benchmark.Title}: {t.Pass} pass, {t.Fail} fail of {t.Total}")).Append("\">");
        o.Append("<circle cx=\"21\" cy=\"21\" r=\"15.915\" fill=\"none\" stroke=\"#eaeef2\" stroke-width=\"6\"/>");
        double offset = 25;
        foreach (var (status, _, label, color) in Palette)
        {
            var n = t.Get(status);
            if (n == 0 || t.Total == 0)
            {
                continue;
            }
            var pct = 100.0 * n / t.Total;
            o.Append("<circle cx=\"21\" cy=\"21\" r=\"15.915\" fill=\"none\" stroke=\"").Append(color).Append("\" stroke-width=\"6\" stroke-dasharray=\"")
                .Append(F(pct)).Append(' ').Append(F(100 - pct)).Append("\" stroke-dashoffset=\"").Append(F(offset)).Append("\"><title>")
                .Append(label).Append(": ").Append(n).Append("</title></circle>");
            offset -= pct;
        }
        var automated = t.Pass + t.Fail + t.Warn;
        var score = automated == 0 ? "–" : $"{100 * t.Pass / automated}%";
        o.Append("<text x=\"21\" y=\"21\" text-anchor=\"middle\" class=\"score\">").Append(score).Append("</text>")
            .Append("<text x=\"21\" y=\"26.5\" text-anchor=\"middle\" class=\"cap\">automated pass</text></svg><figcaption><b>")
            .Append(E(benchmark.Title)).Append("</b><br>").Append(t.Pass).Append(" pass · ").Append(t.Fail).Append(" fail · ").Append(t.Warn).Append(" warn · ")
            .Append(t.Manual).Append(" manual · ").Append(t.NotApplicable).Append(" n/a</figcaption></figure>");
        return o.ToString();
    }

    private static string F(double d) => d.ToString("0.###", CultureInfo.InvariantCulture);

    private static string E(string s) => WebUtility.HtmlEncode(s);

    private const string Css = """
        :root{--fg:#1f2328;--muted:#59636e;--line:#d1d9e0;--bg:#f6f8fa;--pass:#1a7f37;--fail:#cf222e;--warn:#bf8700;--manual:#0969da;--skip:#6e7781;--na:#8c959f}
        *{box-sizing:border-box}body{margin:0;font:14px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,"Noto Sans",sans-serif;color:var(--fg);background:var(--bg)}
        header{display:flex;justify-content:space-between;align-items:center;padding:20px 32px;background:#0d1117;color:#f0f6fc}
        header h1{margin:0;font-size:22px}.sub{margin:2px 0 0;color:#9198a1}.brand{font-weight:600;letter-spacing:.04em;color:#9198a1}
        main{max-width:1180px;margin:0 auto;padding:24px 32px}
        .summary{background:#fff;border:1px solid var(--line);border-radius:10px;padding:20px;margin-bottom:16px}
        .totals{display:flex;flex-wrap:wrap;gap:10px}.big{flex:1;min-width:110px;border:1px solid var(--line);border-radius:8px;padding:10px 14px;display:flex;flex-direction:column}
        .big .n{font-size:28px;font-weight:700;line-height:1.1}.big span:last-child{color:var(--muted)}
        .big.pass .n{color:var(--pass)}.big.fail .n{color:var(--fail)}.big.warn .n{color:var(--warn)}.big.manual .n{color:var(--manual)}.big.skip .n{color:var(--skip)}.big.na .n{color:var(--na)}
        .charts{display:flex;flex-wrap:wrap;gap:32px;margin-top:18px}.chart{display:flex;align-items:center;gap:14px;margin:0}
        .chart .score{font-size:7px;font-weight:700;fill:var(--fg)}.chart .cap{font-size:2.6px;fill:var(--muted)}
        .verdict{margin:16px 0 0;font-weight:600}.verdict.ok{color:var(--pass)}.verdict.bad{color:var(--fail)}
        .filters{position:sticky;top:0;z-index:2;display:flex;flex-wrap:wrap;gap:8px;align-items:center;background:#fff;border:1px solid var(--line);border-radius:10px;padding:10px 14px;margin-bottom:16px}
        .filters .label{font-weight:600;margin-right:4px}.chip{border:1px solid var(--line);border-radius:999px;padding:3px 10px;cursor:pointer;user-select:none}
        .chip input{vertical-align:middle}.chip.pass b{color:var(--pass)}.chip.fail b{color:var(--fail)}.chip.warn b{color:var(--warn)}.chip.manual b{color:var(--manual)}
        select,input[type=search]{font:inherit;padding:4px 8px;border:1px solid var(--line);border-radius:6px}input[type=search]{flex:1;min-width:180px}.shown{color:var(--muted)}
        .benchmark h2{margin:24px 0 8px;font-size:20px}.benchmark h2 small{color:var(--muted);font-weight:400}
        .section{background:#fff;border:1px solid var(--line);border-radius:10px;margin-bottom:14px;overflow:hidden}
        .section h3{margin:0;padding:10px 14px;font-size:15px;background:#f6f8fa;border-bottom:1px solid var(--line);display:flex;gap:8px;align-items:center}
        .section h3 span:first-child{color:var(--muted);font-variant-numeric:tabular-nums}.counts{margin-left:auto;display:flex;gap:6px}
        .counts i{font-style:normal;font-size:12px;font-weight:600;border-radius:999px;padding:0 8px;color:#fff}
        .counts .pass,.pill.pass{background:var(--pass)}.counts .fail,.pill.fail{background:var(--fail)}.counts .warn,.pill.warn{background:var(--warn)}
        .counts .manual,.pill.manual{background:var(--manual)}.counts .skip,.pill.skip{background:var(--skip)}.counts .na,.pill.na{background:var(--na)}
        .check{border-top:1px solid #eaeef2}.check:first-of-type{border-top:0}
        .check summary{display:flex;gap:12px;align-items:center;padding:7px 14px;cursor:pointer;list-style:none}.check summary::-webkit-details-marker{display:none}
        .check summary:hover{background:#f6f8fa}.pill{color:#fff;font-size:11px;font-weight:700;border-radius:4px;padding:1px 0;width:62px;text-align:center;flex:none}
        .id{font-family:ui-monospace,SFMono-Regular,Menlo,monospace;color:var(--muted);width:86px;flex:none}.title{flex:1}
        .sev{font-size:12px;color:var(--muted);white-space:nowrap}.sev.high{color:var(--fail);font-weight:600}
        .body{padding:4px 14px 14px 112px}.reason{margin:4px 0 8px}.fix{margin:8px 0 0}.fix b{color:var(--pass);margin-right:6px}
        table{border-collapse:collapse;width:100%;font-size:13px}th,td{text-align:left;padding:4px 8px;border-bottom:1px solid #eaeef2;vertical-align:top}
        th{color:var(--muted);font-weight:600}tr.bad td{background:#ffebe9}tr.ok td:first-child{color:var(--pass)}tr.bad td:first-child{color:var(--fail)}
        td.src{color:var(--muted);word-break:break-all}code{font-family:ui-monospace,SFMono-Regular,Menlo,monospace;word-break:break-all}
        .refs span{display:inline-block;font-size:12px;background:#ddf4ff;color:#0a3069;border-radius:4px;padding:0 6px;margin:6px 4px 0 0}
        footer{max-width:1180px;margin:0 auto;padding:8px 32px 32px;color:var(--muted);font-size:12px}
        .hidden{display:none}
        """;

    private const string Script = """
        (function(){
          var boxes=[].slice.call(document.querySelectorAll('input[name=status]'));
          var sev=document.getElementById('severity'),q=document.getElementById('search'),shown=document.getElementById('shown');
          var checks=[].slice.call(document.querySelectorAll('.check'));
          function apply(){
            var on={};boxes.forEach(function(b){on[b.value]=b.checked;});
            var s=sev.value,t=q.value.toLowerCase(),n=0;
            checks.forEach(function(c){
              var ok=on[c.dataset.status]&&(!s||c.dataset.severity===s)&&(!t||c.textContent.toLowerCase().indexOf(t)>=0);
              c.classList.toggle('hidden',!ok);if(ok)n++;
            });
            [].slice.call(document.querySelectorAll('.section')).forEach(function(sec){
              sec.classList.toggle('hidden',!sec.querySelector('.check:not(.hidden)'));
            });
            shown.textContent=n+' of '+checks.length+' shown';
          }
          // A link can preselect statuses: report.html#status=FAIL,WARN
          var m=/status=([A-Z_,]+)/.exec(location.hash);
          if(m){var want=m[1].split(',');boxes.forEach(function(b){b.checked=want.indexOf(b.value)>=0;});}
          boxes.forEach(function(b){b.addEventListener('change',apply);});
          sev.addEventListener('change',apply);q.addEventListener('input',apply);apply();
        })();
        """;
}
