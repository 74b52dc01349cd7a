using System.CommandLine;
using System.Text.Json;
using Bulwark.Config;
using Bulwark.Crypto;

namespace Bulwark.Cli;

/// <summary><c>bulwark fips status|self-test</c>.</summary>
internal static class FipsCommand
{
    public static Command Create(CliEnvironment env) => new("fips", "FIPS crypto policy: status of the OpenSSL FIPS provider, and the power-on self-tests")
    {
        CreateStatus(env),
        CreateSelfTest(env),
    };

    private static Command CreateStatus(CliEnvironment env)
    {
        var output = OutputOption.Create();
        var command = new Command("status", "Show the fips-mode, OpenSSL version, whether its FIPS provider is loaded and active, and the approved TLS suites") { output };
        var flags = ConfigFlags.AddTo(command, [ConfigKeys.FipsMode]);
        command.SetAction(parse =>
        {
            var config = GlobalOptions.LoadConfig(parse, env, ConfigRole.Server, flags);
            if (config is null)
            {
                return ExitCodes.Usage;
            }
            var mode = FipsModes.From(config);
            var openSsl = OpenSslStatus.Read();
            var tls = TlsPolicy.BuiltIn;
            var view = new FipsStatusView(mode.Name(), openSsl.LibraryVersion, openSsl.ModulesDirectory, openSsl.FipsModuleInstalled,
                openSsl.FipsProviderAvailable, openSsl.FipsDefaultProperties, openSsl.FipsProviderActive, openSsl.KernelFipsMode, openSsl.Problem,
                tls.GoMinVersion, tls.GoCipherSuites, tls.Tls13Suites.Select(s => s.ToString()).ToList(), tls.Controls,
                AlgorithmPolicy.BuiltIn.Rules.ToList());
            if (parse.GetValue(output) == "json")
            {
                env.Out.WriteLine(JsonSerializer.Serialize(view, CryptoJsonContext.Default.FipsStatusView));
            }
            else
            {
                WriteStatus(view, env.Out);
            }
            // Strict mode without an active provider is the one state in which `bulwark server` would refuse to start.
            return mode == FipsMode.Strict && !openSsl.FipsProviderActive ? ExitCodes.Failed : ExitCodes.Ok;
        });
        return command;
    }

    private static void WriteStatus(FipsStatusView view, TextWriter output)
    {
        static string YesNo(bool value) => value ? "yes" : "no";
        output.WriteLine($"fips-mode:              {view.Mode}{ModeNote(view.Mode)}");
        output.WriteLine($"OpenSSL (used by .NET): {view.OpenSslVersion}");
        output.WriteLine($"FIPS provider module:   {(view.FipsModuleInstalled ? "installed" : "not installed")}{(view.OpenSslModulesDirectory is { } dir ? $" (looked for fips.so in {dir})" : "")}");
        output.WriteLine($"FIPS provider loaded:   {YesNo(view.FipsProviderAvailable)}");
        output.WriteLine($"FIPS by default:        {YesNo(view.FipsDefaultProperties)} (default properties fips=yes)");
        output.WriteLine($"FIPS provider active:   {YesNo(view.FipsProviderActive)}");
        output.WriteLine($"kernel FIPS mode:       {(view.KernelFipsMode is { } k ? YesNo(k) : "unknown (/proc/sys/crypto/fips_enabled absent)")}");
        if (view.Problem is { } problem)
        {
            output.WriteLine($"problem:                {problem}");
        }
        output.WriteLine($"TLS minimum version:    {view.TlsMinVersion} (TLS 1.3 preferred)");
        output.WriteLine($"TLS 1.2 cipher suites:  {string.Join(", ", view.TlsCipherSuites)}");
        output.WriteLine($"TLS 1.3 cipher suites:  {string.Join(", ", view.Tls13CipherSuites)}");
        output.WriteLine($"controls:               {string.Join(", ", view.TlsControls)}");
        output.WriteLine();
        output.WriteLine(view.FipsProviderActive
            ? "Crypto runs in OpenSSL's FIPS provider; Bulwark's policy additionally restricts algorithms."
            : "The OpenSSL FIPS provider is not active on this host: Bulwark enforces the approved-algorithm policy and self-tests, " +
              "but the module underneath is not a validated one. For validated crypto run on a host with OpenSSL's FIPS provider enabled.");
    }

    private static string ModeNote(string mode) => mode switch
    {
        "on" => " (approved algorithms only; self-tests at start)",
        "strict" => " (as on, and the OpenSSL FIPS provider must be active)",
        _ => " (no algorithm policy, no self-tests)",
    };

    private static Command CreateSelfTest(CliEnvironment env)
    {
        var output = OutputOption.Create();
        var command = new Command("self-test", "Run the power-on self-tests (known-answer and pairwise-consistency tests) and print each result") { output };
        command.SetAction(parse =>
        {
            // Asked for explicitly, so the tests run whatever fips-mode says.
            var report = FipsSelfTests.Run(CryptoService.For(FipsMode.On));
            if (parse.GetValue(output) == "json")
            {
                env.Out.WriteLine(JsonSerializer.Serialize(new SelfTestReportView(report.Passed, report.Results), CryptoJsonContext.Default.SelfTestReportView));
            }
            else
            {
                var width = report.Results.Max(r => r.Name.Length);
                foreach (var result in report.Results)
                {
                    var mark = result.Passed ? "PASS" : "FAIL";
                    env.Out.WriteLine($"  {mark}  {result.Name.PadRight(width)}  {result.DurationMilliseconds,8:0.000} ms{(result.Passed ? "" : "  " + result.Detail)}");
                }
                var failed = report.Failures.Count();
                env.Out.WriteLine(failed == 0
                    ? $"All {report.Results.Count} self-tests passed."
                    : $"{failed} of {report.Results.Count} self-tests FAILED: Bulwark would refuse to start. Reinstall OpenSSL (libssl3) and run this again.");
            }
            return report.Passed ? ExitCodes.Ok : ExitCodes.Failed;
        });
        return command;
    }
}
