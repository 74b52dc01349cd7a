using Bulwark.Cli;

using var interrupted = new CancellationTokenSource();
// SIGINT/SIGTERM cancel the run; long-running commands stop their children gracefully and return (see Cancel).
using var sigint = System.Runtime.InteropServices.PosixSignalRegistration.Create(System.Runtime.InteropServices.PosixSignal.SIGINT, Cancel);
using var sigterm = System.Runtime.InteropServices.PosixSignalRegistration.Create(System.Runtime.InteropServices.PosixSignal.SIGTERM, Cancel);

try
{
    return await BulwarkCli.RunAsync(args, CliEnvironment.FromProcess(), interrupted.Token);
}
catch (Exception e)
{
    Console.Error.WriteLine($"bulwark: internal error: {e.GetType().Name}: {e.Message}");
    Console.Error.WriteLine("This is a bug in Bulwark; please report it with the command you ran (see SECURITY.md for sensitive reports).");
    return ExitCodes.Internal;
}

// The first signal stops gracefully (children in reverse order); a second one takes the default action and ends the
// process at once, as with kubectl or containerd. Callbacks run on the thread pool: the runtime's signal thread also
// reports child exits, which the graceful stop waits for.
void Cancel(System.Runtime.InteropServices.PosixSignalContext context)
{
    context.Cancel = !interrupted.IsCancellationRequested;
    _ = interrupted.CancelAsync();
}
