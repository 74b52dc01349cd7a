using System.Runtime.InteropServices;

namespace Bulwark.Crypto;

/// <summary>
/// Restricts the TLS key-exchange groups of every TLS context in this process (server and client, TLS 1.2 and 1.3).
/// .NET has no API for named groups, so this gives OpenSSL — the library under .NET's SslStream — a configuration
/// held in memory: an <c>ssl_conf</c> module whose <c>system_default</c> section sets <c>Groups</c>, which OpenSSL applies
/// to each context it creates from then on. OpenSSL is initialised first (loading the host's own openssl.cnf and its
/// providers, FIPS included), then this replaces only the <c>system_default</c> TLS settings. No file, no environment.
/// </summary>
public static class OpenSslTlsGroups
{
    private static readonly Lock Gate = new();
    private static string? _applied;

    /// <summary>The group list in force (OpenSSL names, colon-separated), or null before <see cref="Restrict"/>.</summary>
    public static string? Applied
    {
        get
        {
            lock (Gate)
            {
                return _applied;
            }
        }
    }

    /// <summary>Applies the groups once per process; a second call with another list is a bug.</summary>
    /// <exception cref="InvalidOperationException">OpenSSL refused the configuration (then no TLS must be offered: fail closed).</exception>
    public static void Restrict(IReadOnlyList<string> groups)
    {
        var list = string.Join(':', groups);
        lock (Gate)
        {
            if (_applied is not null)
            {
                if (_applied != list)
                {
                    throw new InvalidOperationException($"TLS groups are already restricted to {_applied}; cannot change them to {list} in the same process");
                }
                return;
            }
            var text = "openssl_conf = bulwark_init\n[bulwark_init]\nssl_conf = bulwark_ssl\n[bulwark_ssl]\nsystem_default = bulwark_tls\n" +
                $"[bulwark_tls]\nGroups = {list}\n";
            Load(text);
            _applied = list;
        }
    }

    private static void Load(string text)
    {
        // Loads the host's configuration (providers) and registers the ssl_conf module; idempotent with .NET's own init.
        if (Native.OPENSSL_init_ssl(0, IntPtr.Zero) != 1)
        {
            throw new InvalidOperationException("OpenSSL (libssl.so.3) did not initialise; TLS cannot be offered");
        }
        var bytes = System.Text.Encoding.UTF8.GetBytes(text);
        var buffer = Marshal.AllocHGlobal(bytes.Length);
        var conf = IntPtr.Zero;
        var bio = IntPtr.Zero;
        try
        {
            Marshal.Copy(bytes, 0, buffer, bytes.Length);
            bio = Native.BIO_new_mem_buf(buffer, bytes.Length);
            conf = Native.NCONF_new(IntPtr.Zero);
            if (bio == IntPtr.Zero || conf == IntPtr.Zero || Native.NCONF_load_bio(conf, bio, out var line) != 1)
            {
                throw new InvalidOperationException("OpenSSL could not parse Bulwark's TLS group configuration");
            }
            if (Native.CONF_modules_load(conf, IntPtr.Zero, 0) <= 0)
            {
                throw new InvalidOperationException("OpenSSL refused Bulwark's TLS group configuration (Groups in system_default); is libssl.so.3 older than 3.0?");
            }
        }
        finally
        {
            if (conf != IntPtr.Zero)
            {
                Native.NCONF_free(conf);
            }
            if (bio != IntPtr.Zero)
            {
                Native.BIO_free(bio);
            }
            Marshal.FreeHGlobal(buffer);
        }
    }

    private static class Native
    {
        private const string Crypto = "libcrypto.so.3";
        private const string Ssl = "libssl.so.3";

        [DllImport(Ssl, ExactSpelling = true)]
        [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
        public static extern int OPENSSL_init_ssl(ulong options, IntPtr settings);

        [DllImport(Crypto, ExactSpelling = true)]
        [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
        public static extern IntPtr BIO_new_mem_buf(IntPtr buffer, int length);

        [DllImport(Crypto, ExactSpelling = true)]
        [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
        public static extern int BIO_free(IntPtr bio);

        [DllImport(Crypto, ExactSpelling = true)]
        [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
        public static extern IntPtr NCONF_new(IntPtr method);

        [DllImport(Crypto, ExactSpelling = true)]
        [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
        public static extern int NCONF_load_bio(IntPtr conf, IntPtr bio, out long errorLine);

        [DllImport(Crypto, ExactSpelling = true)]
        [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
        public static extern void NCONF_free(IntPtr conf);

        [DllImport(Crypto, ExactSpelling = true)]
        [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
        public static extern int CONF_modules_load(IntPtr conf, IntPtr appName, ulong flags);
    }
}
