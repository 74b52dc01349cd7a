using System.Buffers.Binary;
using System.Text;
using Bulwark.Pki;

namespace Bulwark.Tests.Pki;

public sealed class TokenSealerTests
{
    private static readonly TokenSealer Sealer = new(TestPki.Crypto);
    private static readonly byte[] Data = Encoding.UTF8.GetBytes("{\"bootstrap\":\"data\"}");

    [Fact]
    public void Sealed_data_opens_with_the_same_token_and_describes_itself()
    {
        var sealedData = Sealer.Seal(Data, "s3cret");
        Assert.Equal("BWSL"u8.ToArray(), sealedData[..4]);
        Assert.Equal([1, 1, 1], sealedData[4..7]);
        Assert.Equal(600_000u, BinaryPrimitives.ReadUInt32BigEndian(sealedData.AsSpan(7)));
        Assert.Equal(4 + 3 + 4 + 16 + 12 + Data.Length + 16, sealedData.Length);
        Assert.Equal(Data, Sealer.Unseal(sealedData, "s3cret"));
    }

    [Fact]
    public void Each_seal_uses_a_fresh_salt_and_nonce()
    {
        var a = Sealer.Seal(Data, "s3cret");
        var b = Sealer.Seal(Data, "s3cret");
        Assert.NotEqual(a.AsSpan(11, 16).ToArray(), b.AsSpan(11, 16).ToArray());
        Assert.NotEqual(a.AsSpan(27, 12).ToArray(), b.AsSpan(27, 12).ToArray());
    }

    [Fact]
    public void A_wrong_token_or_a_changed_byte_cannot_open_it()
    {
        var sealedData = Sealer.Seal(Data, "s3cret");
        var e = Assert.Throws<SealedDataException>(() => Sealer.Unseal(sealedData, "s3creT"));
        Assert.Contains("token is wrong or the data was changed", e.Message, StringComparison.Ordinal);
        var changed = (byte[])sealedData.Clone();
        changed[^20] ^= 1;
        Assert.Throws<SealedDataException>(() => Sealer.Unseal(changed, "s3cret"));
        var raisedIterations = (byte[])sealedData.Clone();
        BinaryPrimitives.WriteUInt32BigEndian(raisedIterations.AsSpan(7), 600_001);
        Assert.Throws<SealedDataException>(() => Sealer.Unseal(raisedIterations, "s3cret"));
    }

    [Fact]
    public void Weakened_or_foreign_data_is_refused_before_any_decryption()
    {
        var sealedData = Sealer.Seal(Data, "s3cret");
        var weak = (byte[])sealedData.Clone();
        BinaryPrimitives.WriteUInt32BigEndian(weak.AsSpan(7), 4096);
        Assert.Contains("4096 PBKDF2 iterations", Assert.Throws<SealedDataException>(() => Sealer.Unseal(weak, "s3cret")).Message, StringComparison.Ordinal);
        Assert.Throws<SealedDataException>(() => Sealer.Unseal("not sealed"u8.ToArray(), "s3cret"));
        var future = (byte[])sealedData.Clone();
        future[4] = 2;
        Assert.Contains("upgrade Bulwark", Assert.Throws<SealedDataException>(() => Sealer.Unseal(future, "s3cret")).Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentOutOfRangeException>(() => new TokenSealer(TestPki.Crypto) { Iterations = 10_000 }.Seal(Data, "s3cret"));
    }
}
