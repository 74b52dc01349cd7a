namespace Bulwark.Server;

/// <summary>A loop a stage leaves running in the background; disposing cancels it and waits for it to finish.</summary>
public sealed class BackgroundTask : IAsyncDisposable
{
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _task;

    public BackgroundTask(Func<CancellationToken, Task> loop)
    {
        _task = Task.Run(() => loop(_stop.Token), CancellationToken.None);
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        try
        {
            await _task.ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            // The loop was interrupted by the stop (a scheduled snapshot leaves no file behind).
        }
        _stop.Dispose();
    }
}
