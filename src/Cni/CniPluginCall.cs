using System.Text;
using System.Text.Json.Nodes;
using Bulwark.Processes;

namespace Bulwark.Cni;

/// <summary>How one plugin invocation went: the result object on success, else the plugin's error (code and message).</summary>
public sealed record CniPluginOutcome(bool Ok, JsonObject? Result, string Error);

/// <summary>
/// One plugin invocation per the CNI specification: the command and the container in CNI_* environment variables,
/// the plugin's network configuration (with name, cniVersion, runtimeConfig and prevResult) on stdin, the result
/// or an error object on stdout.
/// </summary>
public sealed record CniPluginCall(string Binary, string Command, string ContainerId, string NetnsPath, string IfName, IReadOnlyList<string> BinDirs)
{
    public async Task<CniPluginOutcome> RunAsync(JsonObject config, CancellationToken cancellationToken)
    {
        var spec = new ProcessSpec(Binary, [])
        {
            Environment = new Dictionary<string, string?>
            {
                ["CNI_COMMAND"] = Command,
                ["CNI_CONTAINERID"] = ContainerId,
                ["CNI_NETNS"] = NetnsPath,
                ["CNI_IFNAME"] = IfName,
                ["CNI_PATH"] = string.Join(':', BinDirs),
                ["CNI_ARGS"] = null,
            },
            StandardInput = Encoding.UTF8.GetBytes(config.ToJsonString()),
            Timeout = TimeSpan.FromSeconds(60),
        };
        var run = await ProcessRunner.RunAsync(spec, cancellationToken).ConfigureAwait(false);
        JsonObject? output = null;
        try
        {
            output = run.StandardOutput.Trim().Length > 0 ? JsonNode.Parse(run.StandardOutput) as JsonObject : null;
        }
        catch (System.Text.Json.JsonException)
        {
            // Not JSON: reported below with the raw text.
        }
        if (run.Succeeded)
        {
            return new CniPluginOutcome(true, output, "");
        }
        var message = output?["msg"]?.GetValue<string>() ?? (run.StandardError.Trim().Length > 0 ? run.StandardError.Trim() : run.StandardOutput.Trim());
        var details = output?["details"]?.GetValue<string>();
        return new CniPluginOutcome(false, output, $"exit {run.ExitCode}{(output?["code"] is { } code ? $", code {code}" : "")}: {message}{(string.IsNullOrEmpty(details) ? "" : $" ({details})")}");
    }
}
