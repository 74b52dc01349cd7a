using System.Globalization;
using Bulwark.Diagnostics;
using Bulwark.Operations;

namespace Bulwark.Server;

/// <summary>How a run ended: finished or stopped cleanly, interrupted before ready, or failed with an error kind.</summary>
public sealed record NodeRunResult(ErrorKind? Failure, bool Interrupted)
{
    public static readonly NodeRunResult Stopped = new(null, false);
}

/// <summary>
/// Runs a <see cref="NodePlan"/>: each stage in order with one line per stage, then (when serving) waits for
/// SIGINT/SIGTERM; on a stop, a failure or an interruption it stops everything the stages left running, in reverse
/// order, once. A failure is printed under the label of the stage that was running.
/// </summary>
public sealed class StageLoop(TextWriter output, SystemdNotifier? notifier = null)
{
    public async Task<NodeRunResult> RunAsync(NodePlan plan, NodeContext node, CancellationToken stop)
    {
        var running = new Stack<(string Name, IAsyncDisposable Running)>();
        var current = "";
        var lastSummary = "";
        try
        {
            foreach (var stage in plan.Stages)
            {
                current = stage.Name;
                stop.ThrowIfCancellationRequested();
                node.ProgressSink = message => Print(stage.Name, message);
                var result = await stage.RunAsync(node, stop).ConfigureAwait(false);
                if (result.Running is { } started)
                {
                    running.Push((stage.Name, started));
                }
                Print(stage.Name, result.Summary);
                lastSummary = result.Summary;
                foreach (var detail in result.Details)
                {
                    Print(null, "  " + detail);
                }
            }
            if (!plan.Serve)
            {
                return NodeRunResult.Stopped;
            }
            current = "";
            StartupMemory.Release();
            // systemd (Type=notify) marks the unit started only now, so `systemctl start` returns when the node is ready.
            notifier?.Ready(lastSummary);
            try
            {
                await Task.Delay(Timeout.Infinite, stop).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                // SIGTERM/SIGINT: the normal way to stop a ready node.
            }
            notifier?.Stopping();
            Print("stop", "signal received; stopping in reverse order");
            return NodeRunResult.Stopped;
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
            Print("stop", $"interrupted before ready (during {current}); stopping what was started");
            return new NodeRunResult(null, true);
        }
        catch (BulwarkException e)
        {
            Print(current, (e.Kind is ErrorKind.Unavailable or ErrorKind.Bug ? "failed: " : "refused: ") + e.Message);
            return new NodeRunResult(e.Kind, false);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // The disk or the permissions failed under a stage that did not expect it: the environment, not a bug.
            Print(current, $"failed: {e.Message}");
            return new NodeRunResult(ErrorKind.Unavailable, false);
        }
        finally
        {
            await StopAllAsync(running).ConfigureAwait(false);
        }
    }

    private async Task StopAllAsync(Stack<(string Name, IAsyncDisposable Running)> running)
    {
        while (running.TryPop(out var item))
        {
            try
            {
                await item.Running.DisposeAsync().ConfigureAwait(false);
                Print("stop", $"{item.Name} stopped");
            }
            catch (Exception e) when (e is BulwarkException or IOException or InvalidOperationException)
            {
                // Keep stopping the rest: one stage that stops badly must not leave the earlier ones running.
                Print("stop", $"{item.Name} did not stop cleanly: {e.Message}");
            }
        }
    }

    private void Print(string? stage, string message)
    {
        output.WriteLine(stage is null ? message : string.Create(CultureInfo.InvariantCulture, $"[{stage}] {message}"));
        output.Flush();
    }
}
