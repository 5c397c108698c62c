using Amalgam.Kernels;

namespace Amalgam.Engine.Text;

/// <summary>
/// The BERT model inputs for a batch of texts: three <see cref="DType.I64"/> tensors [Count, Length]
/// named as the ONNX inputs (<c>input_ids</c>, <c>attention_mask</c>, <c>token_type_ids</c>).
/// Owns them; dispose it when done.
/// </summary>
public sealed class TokenizedBatch : IDisposable
{
    public const string InputIdsName = "input_ids";
    public const string AttentionMaskName = "attention_mask";
    public const string TokenTypeIdsName = "token_type_ids";

    internal TokenizedBatch(int count, int length)
    {
        Count = count;
        Length = length;
        long[] shape = [count, length];
        // Zero-filled: padding is [PAD] = 0 with mask 0 and type 0, so only real tokens are written.
        InputIds = Tensor.Allocate(InputIdsName, DType.I64, shape);
        AttentionMask = Tensor.Allocate(AttentionMaskName, DType.I64, shape);
        TokenTypeIds = Tensor.Allocate(TokenTypeIdsName, DType.I64, shape);
        ByInputName = new Dictionary<string, Tensor>(StringComparer.Ordinal)
        {
            [InputIdsName] = InputIds,
            [AttentionMaskName] = AttentionMask,
            [TokenTypeIdsName] = TokenTypeIds,
        };
    }

    /// <summary>Token ids, [CLS] first, [PAD] (0) after the last [SEP].</summary>
    public Tensor InputIds { get; }

    /// <summary>1 on real tokens (special tokens included), 0 on padding.</summary>
    public Tensor AttentionMask { get; }

    /// <summary>0 for <c>[CLS] a [SEP]</c> and padding, 1 for <c>b [SEP]</c> of a pair.</summary>
    public Tensor TokenTypeIds { get; }

    /// <summary>The three tensors by ONNX input name, for ONNX Runtime feeds.</summary>
    public IReadOnlyDictionary<string, Tensor> ByInputName { get; }

    /// <summary>Number of texts (rows).</summary>
    public int Count { get; }

    /// <summary>Tokens per row: the max length of the encode call, padding included.</summary>
    public int Length { get; }

    public void Dispose()
    {
        InputIds.Dispose();
        AttentionMask.Dispose();
        TokenTypeIds.Dispose();
    }
}
