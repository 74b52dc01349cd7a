using Bulwark.Diagnostics;

namespace Bulwark.Etcd;

/// <summary>
/// An error reported by etcd (or by the path to it), with etcd's gRPC status code and message.
/// The codes are gRPC's: 3 invalid argument, 4 deadline exceeded, 5 not found, 8 resource exhausted,
/// 9 failed precondition, 11 out of range, 14 unavailable, 16 unauthenticated.
/// </summary>
public sealed class EtcdException : BulwarkException
{
    public EtcdException(int code, string etcdMessage, int httpStatus, string endpoint)
        : base(ErrorKind.Unavailable, $"etcd at {endpoint}: {etcdMessage} (code {code} {NameOf(code)}, HTTP {httpStatus})")
    {
        Code = code;
        EtcdMessage = etcdMessage;
        HttpStatus = httpStatus;
        Endpoint = endpoint;
    }

    public EtcdException(string message, Exception inner, string endpoint)
        : base(ErrorKind.Unavailable, $"etcd at {endpoint}: {message}", inner)
    {
        Code = GrpcCodes.Unavailable;
        EtcdMessage = message;
        Endpoint = endpoint;
    }

    public int Code { get; }

    /// <summary>etcd's own message, e.g. "etcdserver: mvcc: required revision has been compacted".</summary>
    public string EtcdMessage { get; }

    /// <summary>The HTTP status the gateway answered with; 0 when no answer came (connection failed).</summary>
    public int HttpStatus { get; }

    public string Endpoint { get; }

    public bool IsCompacted => Code == GrpcCodes.OutOfRange && EtcdMessage.Contains("compacted", StringComparison.Ordinal);

    public bool IsLearnerNotReady => Code == GrpcCodes.FailedPrecondition && EtcdMessage.Contains("in sync", StringComparison.Ordinal);

    public bool IsNotFound => Code == GrpcCodes.NotFound;

    public bool IsDeadlineExceeded => Code == GrpcCodes.DeadlineExceeded;

    public static string NameOf(int code) => code switch
    {
        GrpcCodes.Ok => "OK",
        GrpcCodes.Cancelled => "CANCELLED",
        GrpcCodes.Unknown => "UNKNOWN",
        GrpcCodes.InvalidArgument => "INVALID_ARGUMENT",
        GrpcCodes.DeadlineExceeded => "DEADLINE_EXCEEDED",
        GrpcCodes.NotFound => "NOT_FOUND",
        GrpcCodes.AlreadyExists => "ALREADY_EXISTS",
        GrpcCodes.PermissionDenied => "PERMISSION_DENIED",
        GrpcCodes.ResourceExhausted => "RESOURCE_EXHAUSTED",
        GrpcCodes.FailedPrecondition => "FAILED_PRECONDITION",
        GrpcCodes.Aborted => "ABORTED",
        GrpcCodes.OutOfRange => "OUT_OF_RANGE",
        GrpcCodes.Unimplemented => "UNIMPLEMENTED",
        GrpcCodes.Internal => "INTERNAL",
        GrpcCodes.Unavailable => "UNAVAILABLE",
        GrpcCodes.DataLoss => "DATA_LOSS",
        GrpcCodes.Unauthenticated => "UNAUTHENTICATED",
        _ => "UNKNOWN",
    };
}

public static class GrpcCodes
{
    public const int Ok = 0;
    public const int Cancelled = 1;
    public const int Unknown = 2;
    public const int InvalidArgument = 3;
    public const int DeadlineExceeded = 4;
    public const int NotFound = 5;
    public const int AlreadyExists = 6;
    public const int PermissionDenied = 7;
    public const int ResourceExhausted = 8;
    public const int FailedPrecondition = 9;
    public const int Aborted = 10;
    public const int OutOfRange = 11;
    public const int Unimplemented = 12;
    public const int Internal = 13;
    public const int Unavailable = 14;
    public const int DataLoss = 15;
    public const int Unauthenticated = 16;
}
