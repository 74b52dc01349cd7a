using System.Runtime.InteropServices;

namespace Bulwark.Crypto;

/// <summary>
/// What the OpenSSL library under .NET says about FIPS: its version, whether the FIPS provider module is
/// installed, loaded and available, and whether the default properties select it (fips=yes). Read in-process
/// from the same libcrypto .NET uses, so it describes the crypto Bulwark actually runs.
/// </summary>
public sealed record OpenSslStatus(
    string LibraryVersion,
    string? ModulesDirectory,
    bool FipsModuleInstalled,
    bool FipsProviderAvailable,
    bool FipsDefaultProperties,
    bool? KernelFipsMode,
    string? Problem)
{
    /// <summary>Active = the FIPS provider is available and algorithm fetches default to it.</summary>
    public bool FipsProviderActive => FipsProviderAvailable && FipsDefaultProperties;

    public static OpenSslStatus Read(string procRoot = "/proc")
    {
        bool? kernel = null;
        var kernelFile = Path.Combine(procRoot, "sys/crypto/fips_enabled");
        if (File.Exists(kernelFile))
        {
            kernel = File.ReadAllText(kernelFile).Trim() == "1";
        }
        try
        {
            var version = LibCrypto.Version(LibCrypto.OpenSslVersionText) ?? "unknown";
            var modules = LibCrypto.Version(LibCrypto.OpenSslModulesDir);
            var installed = modules is not null && File.Exists(Path.Combine(modules, "fips.so"));
            return new OpenSslStatus(version, modules, installed, LibCrypto.ProviderAvailable("fips"), LibCrypto.DefaultPropertiesFips(), kernel, null);
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException or BadImageFormatException)
        {
            // OpenSSL 1.1 has no providers; report it instead of guessing.
            return new OpenSslStatus("unknown", null, false, false, false, kernel, $"cannot query libcrypto.so.3: {e.Message}");
        }
    }
}

/// <summary>The few libcrypto 3 calls that report provider state (read-only; no crypto is done through them).</summary>
internal static class LibCrypto
{
    private const string Library = "libcrypto.so.3";
    public const int OpenSslVersionText = 0;   // OPENSSL_VERSION
    public const int OpenSslModulesDir = 8;    // OPENSSL_MODULES_DIR

    public static string? Version(int type)
    {
        var text = Marshal.PtrToStringUTF8(OpenSSL_version(type));
        // OpenSSL_version returns e.g. MODULESDIR: "/usr/lib/x86_64-linux-gnu/ossl-modules"
        const string prefix = "MODULESDIR: ";
        return text?.StartsWith(prefix, StringComparison.Ordinal) == true ? text[prefix.Length..].Trim('"') : text;
    }

    public static bool ProviderAvailable(string name)
    {
        var native = Marshal.StringToCoTaskMemUTF8(name);
        try
        {
            return OSSL_PROVIDER_available(IntPtr.Zero, native) == 1;
        }
        finally
        {
            Marshal.FreeCoTaskMem(native);
        }
    }

    public static bool DefaultPropertiesFips() => EVP_default_properties_is_fips_enabled(IntPtr.Zero) == 1;

    [DllImport(Library, ExactSpelling = true)]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    private static extern IntPtr OpenSSL_version(int type);

    [DllImport(Library, ExactSpelling = true)]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    private static extern int OSSL_PROVIDER_available(IntPtr libraryContext, IntPtr name);

    [DllImport(Library, ExactSpelling = true)]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    private static extern int EVP_default_properties_is_fips_enabled(IntPtr libraryContext);
}
