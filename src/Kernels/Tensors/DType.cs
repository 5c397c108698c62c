namespace Amalgam.Kernels;

/// <summary>Element types a checkpoint tensor can have. Merge math runs in f32 (f64 for long reductions).</summary>
public enum DType : byte { F32, F16, BF16, F64, I64, I32, I8, U8, Bool }

public static class DTypes
{
    /// <summary>Bytes per element.</summary>
    public static int Size(this DType t) => t switch
    {
        DType.F64 or DType.I64 => 8,
        DType.F32 or DType.I32 => 4,
        DType.F16 or DType.BF16 => 2,
        DType.I8 or DType.U8 or DType.Bool => 1,
        _ => throw new ArgumentOutOfRangeException(nameof(t), t, null),
    };

    public static bool IsFloat(this DType t) => t is DType.F32 or DType.F16 or DType.BF16 or DType.F64;

    /// <summary>The dtype spelling used in safetensors headers ("F32", "BF16", "BOOL", ...).</summary>
    public static string SafetensorsName(this DType t) => t switch
    {
        DType.F32 => "F32", DType.F16 => "F16", DType.BF16 => "BF16", DType.F64 => "F64",
        DType.I64 => "I64", DType.I32 => "I32", DType.I8 => "I8", DType.U8 => "U8", DType.Bool => "BOOL",
        _ => throw new ArgumentOutOfRangeException(nameof(t), t, null),
    };

    public static bool TryParseSafetensors(string name, out DType t)
    {
        switch (name)
        {
            case "F32": t = DType.F32; return true;
            case "F16": t = DType.F16; return true;
            case "BF16": t = DType.BF16; return true;
            case "F64": t = DType.F64; return true;
            case "I64": t = DType.I64; return true;
            case "I32": t = DType.I32; return true;
            case "I8": t = DType.I8; return true;
            case "U8": t = DType.U8; return true;
            case "BOOL": t = DType.Bool; return true;
            default: t = default; return false;
        }
    }

    /// <summary>Lower-case short name for display ("f32", "bf16", ...).</summary>
    public static string ShortName(this DType t) => t.ToString().ToLowerInvariant();
}
