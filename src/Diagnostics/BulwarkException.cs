namespace Bulwark.Diagnostics;

/// <summary>
/// Bulwark's one error type: raised where the problem is known, with its <see cref="ErrorKind"/> and a message that
/// says what, where (path, file:line) and how to fix it. Capabilities may derive a type to carry extra data; the CLI
/// maps <see cref="Kind"/> to an exit code in one place (Cli/ExitCodes).
/// </summary>
public class BulwarkException(ErrorKind kind, string message, Exception? inner = null) : Exception(message, inner)
{
    public ErrorKind Kind { get; } = kind;

    public static BulwarkException Usage(string message, Exception? inner = null) => new(ErrorKind.Usage, message, inner);

    public static BulwarkException Refused(string message, Exception? inner = null) => new(ErrorKind.Refused, message, inner);

    public static BulwarkException Unavailable(string message, Exception? inner = null) => new(ErrorKind.Unavailable, message, inner);
}
