using System.Runtime;
using System.Runtime.InteropServices;

namespace Bulwark.Operations;

/// <summary>
/// Gives back what a long-running Bulwark process allocated only to start: parsed config and policy documents,
/// rendered files, PKI work. Without swap the kernel can never reclaim that anonymous memory, and neither the GC (which
/// keeps freed regions committed for reuse) nor glibc (which keeps freed arena pages) returns it by itself.
/// </summary>
public static class StartupMemory
{
    /// <summary>One compacting, decommitting collection, then glibc's free pages back to the kernel. Call once, when ready.</summary>
    public static void Release()
    {
        GCSettings.LargeObjectHeapCompactionMode = GCLargeObjectHeapCompactionMode.CompactOnce;
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Aggressive, blocking: true, compacting: true);
        try
        {
            MallocTrim(0);
        }
        catch (EntryPointNotFoundException)
        {
            // Not glibc (musl has no malloc_trim): nothing to trim there.
        }
    }

    [DllImport("libc", EntryPoint = "malloc_trim")]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    private static extern int MallocTrim(nuint pad);
}
