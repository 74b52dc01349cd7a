using System.Text.Json.Serialization;

namespace Bulwark.Etcd;

// Properties with defaults use "set", not "init": source-generated System.Text.Json writes default(T) into missing init-only members.
// The v3 JSON gateway's messages, with etcd's exact .proto field names (see ETCD-GATEWAY.md §1):
// int64/uint64 arrive as strings, bytes as standard base64, default values are left out.

public sealed record ResponseHeader
{
    [JsonPropertyName("cluster_id")] public ulong ClusterId { get; init; }
    [JsonPropertyName("member_id")] public ulong MemberId { get; init; }
    [JsonPropertyName("revision")] public long Revision { get; init; }
    [JsonPropertyName("raft_term")] public ulong RaftTerm { get; init; }
}

public sealed record KeyValue
{
    [JsonPropertyName("key")] public byte[] Key { get; set; } = [];
    [JsonPropertyName("create_revision")] public long CreateRevision { get; init; }
    [JsonPropertyName("mod_revision")] public long ModRevision { get; init; }
    [JsonPropertyName("version")] public long Version { get; init; }
    [JsonPropertyName("value")] public byte[] Value { get; set; } = [];
    [JsonPropertyName("lease")] public long Lease { get; init; }

    [JsonIgnore] public string KeyText => System.Text.Encoding.UTF8.GetString(Key);
    [JsonIgnore] public string ValueText => System.Text.Encoding.UTF8.GetString(Value);
}

public sealed record RangeRequest
{
    [JsonPropertyName("key")] public required byte[] Key { get; init; }
    [JsonPropertyName("range_end"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public byte[]? RangeEnd { get; init; }
    [JsonPropertyName("limit"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)] public long Limit { get; init; }
    [JsonPropertyName("revision"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)] public long Revision { get; init; }
    [JsonPropertyName("serializable"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)] public bool Serializable { get; init; }
    [JsonPropertyName("keys_only"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)] public bool KeysOnly { get; init; }
    [JsonPropertyName("count_only"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)] public bool CountOnly { get; init; }
}

public sealed record RangeResponse
{
    [JsonPropertyName("header")] public ResponseHeader Header { get; set; } = new();
    [JsonPropertyName("kvs")] public IReadOnlyList<KeyValue> Kvs { get; set; } = [];
    [JsonPropertyName("more")] public bool More { get; init; }
    [JsonPropertyName("count")] public long Count { get; init; }
}

public sealed record PutRequest
{
    [JsonPropertyName("key")] public required byte[] Key { get; init; }
    [JsonPropertyName("value")] public required byte[] Value { get; init; }
    [JsonPropertyName("lease"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault), JsonNumberHandling(JsonNumberHandling.WriteAsString)] public long Lease { get; init; }
    [JsonPropertyName("prev_kv"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)] public bool PrevKv { get; init; }
}

public sealed record PutResponse
{
    [JsonPropertyName("header")] public ResponseHeader Header { get; set; } = new();
    [JsonPropertyName("prev_kv")] public KeyValue? PrevKv { get; init; }
}

public sealed record DeleteRangeRequest
{
    [JsonPropertyName("key")] public required byte[] Key { get; init; }
    [JsonPropertyName("range_end"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public byte[]? RangeEnd { get; init; }
    [JsonPropertyName("prev_kv"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)] public bool PrevKv { get; init; }
}

public sealed record DeleteRangeResponse
{
    [JsonPropertyName("header")] public ResponseHeader Header { get; set; } = new();
    [JsonPropertyName("deleted")] public long Deleted { get; init; }
    [JsonPropertyName("prev_kvs")] public IReadOnlyList<KeyValue> PrevKvs { get; set; } = [];
}

/// <summary>A txn comparison. Build with the factory methods; Result is EQUAL, GREATER, LESS or NOT_EQUAL.</summary>
public sealed record Compare
{
    [JsonPropertyName("key")] public required byte[] Key { get; init; }
    [JsonPropertyName("result")] public required string Result { get; init; }
    [JsonPropertyName("target")] public required string Target { get; init; }
    [JsonPropertyName("version"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull), JsonNumberHandling(JsonNumberHandling.WriteAsString)] public long? Version { get; init; }
    [JsonPropertyName("create_revision"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull), JsonNumberHandling(JsonNumberHandling.WriteAsString)] public long? CreateRevision { get; init; }
    [JsonPropertyName("mod_revision"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull), JsonNumberHandling(JsonNumberHandling.WriteAsString)] public long? ModRevision { get; init; }
    [JsonPropertyName("value"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public byte[]? Value { get; init; }

    public static Compare ValueEquals(byte[] key, byte[] value) => new() { Key = key, Result = "EQUAL", Target = "VALUE", Value = value };
    public static Compare ModRevisionEquals(byte[] key, long revision) => new() { Key = key, Result = "EQUAL", Target = "MOD", ModRevision = revision };
    public static Compare VersionEquals(byte[] key, long version) => new() { Key = key, Result = "EQUAL", Target = "VERSION", Version = version };

    /// <summary>True when the key does not exist (create-if-absent).</summary>
    public static Compare Absent(byte[] key) => new() { Key = key, Result = "EQUAL", Target = "CREATE", CreateRevision = 0 };
}

public sealed record RequestOp
{
    [JsonPropertyName("request_range"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public RangeRequest? Range { get; init; }
    [JsonPropertyName("request_put"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public PutRequest? Put { get; init; }
    [JsonPropertyName("request_delete_range"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public DeleteRangeRequest? DeleteRange { get; init; }
}

public sealed record ResponseOp
{
    [JsonPropertyName("response_range")] public RangeResponse? Range { get; init; }
    [JsonPropertyName("response_put")] public PutResponse? Put { get; init; }
    [JsonPropertyName("response_delete_range")] public DeleteRangeResponse? DeleteRange { get; init; }
}

public sealed record TxnRequest
{
    [JsonPropertyName("compare")] public IReadOnlyList<Compare> Compare { get; set; } = [];
    [JsonPropertyName("success")] public IReadOnlyList<RequestOp> Success { get; set; } = [];
    [JsonPropertyName("failure")] public IReadOnlyList<RequestOp> Failure { get; set; } = [];
}

public sealed record TxnResponse
{
    [JsonPropertyName("header")] public ResponseHeader Header { get; set; } = new();
    [JsonPropertyName("succeeded")] public bool Succeeded { get; init; }
    [JsonPropertyName("responses")] public IReadOnlyList<ResponseOp> Responses { get; set; } = [];
}

public sealed record WatchCreate
{
    [JsonPropertyName("key")] public required byte[] Key { get; init; }
    [JsonPropertyName("range_end"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public byte[]? RangeEnd { get; init; }
    [JsonPropertyName("start_revision"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault), JsonNumberHandling(JsonNumberHandling.WriteAsString)] public long StartRevision { get; init; }
    [JsonPropertyName("prev_kv"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)] public bool PrevKv { get; init; }
    [JsonPropertyName("progress_notify"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)] public bool ProgressNotify { get; init; }
}

internal sealed record WatchRequest([property: JsonPropertyName("create_request")] WatchCreate CreateRequest);

public sealed record WatchEvent
{
    /// <summary>PUT or DELETE (etcd leaves PUT out, so a missing type reads as PUT).</summary>
    [JsonPropertyName("type")] public string Type { get; set; } = "PUT";
    [JsonPropertyName("kv")] public KeyValue Kv { get; set; } = new();
    [JsonPropertyName("prev_kv")] public KeyValue? PrevKv { get; init; }
}

public sealed record WatchResponse
{
    [JsonPropertyName("header")] public ResponseHeader Header { get; set; } = new();
    [JsonPropertyName("watch_id")] public long WatchId { get; init; }
    [JsonPropertyName("created")] public bool Created { get; init; }
    [JsonPropertyName("canceled")] public bool Canceled { get; init; }
    [JsonPropertyName("compact_revision")] public long CompactRevision { get; init; }
    [JsonPropertyName("cancel_reason")] public string? CancelReason { get; init; }
    [JsonPropertyName("events")] public IReadOnlyList<WatchEvent> Events { get; set; } = [];
}

internal sealed record StreamError
{
    [JsonPropertyName("grpc_code")] public int GrpcCode { get; init; }
    [JsonPropertyName("http_code")] public int HttpCode { get; init; }
    [JsonPropertyName("message")] public string Message { get; set; } = "";
}

internal sealed record WatchLine
{
    [JsonPropertyName("result")] public WatchResponse? Result { get; init; }
    [JsonPropertyName("error")] public StreamError? Error { get; init; }
}

internal sealed record UnaryError
{
    [JsonPropertyName("code")] public int Code { get; init; }
    [JsonPropertyName("message")] public string? Message { get; init; }
    [JsonPropertyName("error")] public System.Text.Json.JsonElement Error { get; init; }
}

internal sealed record LeaseGrantRequest(
    [property: JsonPropertyName("TTL"), JsonNumberHandling(JsonNumberHandling.WriteAsString)] long Ttl,
    [property: JsonPropertyName("ID"), JsonNumberHandling(JsonNumberHandling.WriteAsString)] long Id);

public sealed record LeaseGrantResponse
{
    [JsonPropertyName("header")] public ResponseHeader Header { get; set; } = new();
    [JsonPropertyName("ID")] public long Id { get; init; }
    [JsonPropertyName("TTL")] public long Ttl { get; init; }
    [JsonPropertyName("error")] public string? Error { get; init; }
}

internal sealed record LeaseIdRequest([property: JsonPropertyName("ID"), JsonNumberHandling(JsonNumberHandling.WriteAsString)] long Id);

internal sealed record LeaseTimeToLiveRequest(
    [property: JsonPropertyName("ID"), JsonNumberHandling(JsonNumberHandling.WriteAsString)] long Id,
    [property: JsonPropertyName("keys")] bool Keys);

public sealed record LeaseTimeToLiveResponse
{
    [JsonPropertyName("header")] public ResponseHeader Header { get; set; } = new();
    [JsonPropertyName("ID")] public long Id { get; init; }
    /// <summary>Remaining seconds; -1 when the lease has expired or was revoked.</summary>
    [JsonPropertyName("TTL")] public long Ttl { get; init; }
    [JsonPropertyName("grantedTTL")] public long GrantedTtl { get; init; }
    [JsonPropertyName("keys")] public IReadOnlyList<byte[]> Keys { get; set; } = [];
}

public sealed record LeaseKeepAliveResponse
{
    [JsonPropertyName("header")] public ResponseHeader Header { get; set; } = new();
    [JsonPropertyName("ID")] public long Id { get; init; }
    /// <summary>The renewed TTL; 0 when the lease no longer exists.</summary>
    [JsonPropertyName("TTL")] public long Ttl { get; init; }
}

internal sealed record LeaseKeepAliveLine
{
    [JsonPropertyName("result")] public LeaseKeepAliveResponse? Result { get; init; }
    [JsonPropertyName("error")] public StreamError? Error { get; init; }
}

public sealed record StatusResponse
{
    [JsonPropertyName("header")] public ResponseHeader Header { get; set; } = new();
    [JsonPropertyName("version")] public string Version { get; set; } = "";
    [JsonPropertyName("dbSize")] public long DbSize { get; init; }
    [JsonPropertyName("leader")] public ulong Leader { get; init; }
    [JsonPropertyName("raftIndex")] public ulong RaftIndex { get; init; }
    [JsonPropertyName("raftTerm")] public ulong RaftTerm { get; init; }
    [JsonPropertyName("raftAppliedIndex")] public ulong RaftAppliedIndex { get; init; }
    [JsonPropertyName("errors")] public IReadOnlyList<string> Errors { get; set; } = [];
    [JsonPropertyName("dbSizeInUse")] public long DbSizeInUse { get; init; }
    [JsonPropertyName("isLearner")] public bool IsLearner { get; init; }
}

public sealed record AlarmMember
{
    [JsonPropertyName("memberID")] public ulong MemberId { get; init; }
    [JsonPropertyName("alarm")] public string Alarm { get; set; } = "NONE";
}

internal sealed record AlarmRequest(
    [property: JsonPropertyName("action")] string Action,
    [property: JsonPropertyName("memberID"), JsonNumberHandling(JsonNumberHandling.WriteAsString)] ulong MemberId,
    [property: JsonPropertyName("alarm")] string Alarm);

internal sealed record AlarmResponse
{
    [JsonPropertyName("alarms")] public IReadOnlyList<AlarmMember> Alarms { get; set; } = [];
}

public sealed record HashResponse
{
    [JsonPropertyName("header")] public ResponseHeader Header { get; set; } = new();
    [JsonPropertyName("hash")] public uint Hash { get; init; }
}

public sealed record Member
{
    [JsonPropertyName("ID")] public ulong Id { get; init; }
    /// <summary>Empty for a member that was added but has not started yet.</summary>
    [JsonPropertyName("name")] public string Name { get; set; } = "";
    [JsonPropertyName("peerURLs")] public IReadOnlyList<string> PeerUrls { get; set; } = [];
    [JsonPropertyName("clientURLs")] public IReadOnlyList<string> ClientUrls { get; set; } = [];
    [JsonPropertyName("isLearner")] public bool IsLearner { get; init; }

    [JsonIgnore] public string IdHex => Id.ToString("x16", System.Globalization.CultureInfo.InvariantCulture);
}

internal sealed record MemberAddRequest(
    [property: JsonPropertyName("peerURLs")] IReadOnlyList<string> PeerUrls,
    [property: JsonPropertyName("isLearner")] bool IsLearner);

internal sealed record MemberIdRequest([property: JsonPropertyName("ID"), JsonNumberHandling(JsonNumberHandling.WriteAsString)] ulong Id);

internal sealed record MemberUpdateRequest(
    [property: JsonPropertyName("ID"), JsonNumberHandling(JsonNumberHandling.WriteAsString)] ulong Id,
    [property: JsonPropertyName("peerURLs")] IReadOnlyList<string> PeerUrls);

public sealed record MemberListResponse
{
    [JsonPropertyName("header")] public ResponseHeader Header { get; set; } = new();
    [JsonPropertyName("members")] public IReadOnlyList<Member> Members { get; set; } = [];
}

public sealed record MemberAddResponse
{
    [JsonPropertyName("header")] public ResponseHeader Header { get; set; } = new();
    [JsonPropertyName("member")] public Member Member { get; set; } = new();
    [JsonPropertyName("members")] public IReadOnlyList<Member> Members { get; set; } = [];
}

internal sealed record EmptyRequest;

internal sealed record CompactionRequest(
    [property: JsonPropertyName("revision"), JsonNumberHandling(JsonNumberHandling.WriteAsString)] long Revision,
    [property: JsonPropertyName("physical")] bool Physical);

internal sealed record HealthResponse([property: JsonPropertyName("health")] string Health);

[JsonSourceGenerationOptions(NumberHandling = JsonNumberHandling.AllowReadingFromString)]
[JsonSerializable(typeof(RangeRequest))]
[JsonSerializable(typeof(RangeResponse))]
[JsonSerializable(typeof(PutRequest))]
[JsonSerializable(typeof(PutResponse))]
[JsonSerializable(typeof(DeleteRangeRequest))]
[JsonSerializable(typeof(DeleteRangeResponse))]
[JsonSerializable(typeof(TxnRequest))]
[JsonSerializable(typeof(TxnResponse))]
[JsonSerializable(typeof(WatchRequest))]
[JsonSerializable(typeof(WatchLine))]
[JsonSerializable(typeof(UnaryError))]
[JsonSerializable(typeof(LeaseGrantRequest))]
[JsonSerializable(typeof(LeaseGrantResponse))]
[JsonSerializable(typeof(LeaseIdRequest))]
[JsonSerializable(typeof(LeaseTimeToLiveRequest))]
[JsonSerializable(typeof(LeaseTimeToLiveResponse))]
[JsonSerializable(typeof(LeaseKeepAliveLine))]
[JsonSerializable(typeof(StatusResponse))]
[JsonSerializable(typeof(AlarmRequest))]
[JsonSerializable(typeof(AlarmResponse))]
[JsonSerializable(typeof(HashResponse))]
[JsonSerializable(typeof(MemberAddRequest))]
[JsonSerializable(typeof(MemberIdRequest))]
[JsonSerializable(typeof(MemberUpdateRequest))]
[JsonSerializable(typeof(MemberListResponse))]
[JsonSerializable(typeof(MemberAddResponse))]
[JsonSerializable(typeof(EmptyRequest))]
[JsonSerializable(typeof(CompactionRequest))]
[JsonSerializable(typeof(HealthResponse))]
[JsonSerializable(typeof(StreamError))]
internal sealed partial class EtcdJsonContext : JsonSerializerContext;
