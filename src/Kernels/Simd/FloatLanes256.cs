using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Amalgam.Kernels.Simd;

/// <summary>8 float lanes: <see cref="Vector256{T}"/> of float as an <see cref="IFloatLanes{TV}"/>.</summary>
internal readonly unsafe struct FloatLanes256 : IFloatLanes<Vector256<float>>
{
    public static int Count => 8;

    public static bool IsHardwareAccelerated => Vector256.IsHardwareAccelerated;

    public static Vector256<float> Zero
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get => Vector256<float>.Zero;
    }

    public static Vector256<float> One
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get => Vector256<float>.One;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Create(float value) => Vector256.Create(value);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Load(float* source) => Vector256.Load(source);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> LoadBf16(ushort* source) => Vector256.ShiftLeft(Vector256.WidenLower(Vector128.Load(source).ToVector256Unsafe()), 16).AsSingle();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static (Vector256<float> Lower, Vector256<float> Upper) LoadBf16Pair(ushort* source)
    {
        var (lower, upper) = Vector256.Widen(Vector256.Load(source));
        return (Vector256.ShiftLeft(lower, 16).AsSingle(), Vector256.ShiftLeft(upper, 16).AsSingle());
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Store(Vector256<float> value, float* destination) => value.Store(destination);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> LoadUnsafe(ref float source, nuint elementOffset) => Vector256.LoadUnsafe(ref source, elementOffset);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void StoreUnsafe(Vector256<float> value, ref float destination, nuint elementOffset) => value.StoreUnsafe(ref destination, elementOffset);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Add(Vector256<float> left, Vector256<float> right) => left + right;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Subtract(Vector256<float> left, Vector256<float> right) => left - right;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Multiply(Vector256<float> left, Vector256<float> right) => left * right;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Divide(Vector256<float> left, Vector256<float> right) => left / right;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> And(Vector256<float> left, Vector256<float> right) => left & right;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Or(Vector256<float> left, Vector256<float> right) => left | right;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Not(Vector256<float> value) => ~value;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Abs(Vector256<float> value) => Vector256.Abs(value);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Sqrt(Vector256<float> value) => Vector256.Sqrt(value);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Equals(Vector256<float> left, Vector256<float> right) => Vector256.Equals(left, right);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> GreaterThan(Vector256<float> left, Vector256<float> right) => Vector256.GreaterThan(left, right);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> GreaterThanOrEqual(Vector256<float> left, Vector256<float> right) => Vector256.GreaterThanOrEqual(left, right);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> LessThan(Vector256<float> left, Vector256<float> right) => Vector256.LessThan(left, right);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> ConditionalSelect(Vector256<float> mask, Vector256<float> left, Vector256<float> right) => Vector256.ConditionalSelect(mask, left, right);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> MaxNative(Vector256<float> left, Vector256<float> right) => Vector256.MaxNative(left, right);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> MinNative(Vector256<float> left, Vector256<float> right) => Vector256.MinNative(left, right);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> LoadUInt32(uint* source) => Vector256.Load(source).AsSingle();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> CreateUInt32(uint value) => Vector256.Create(value).AsSingle();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> ShiftRightLogical(Vector256<float> value, int count) => Vector256.ShiftRightLogical(value.AsUInt32(), count).AsSingle();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> GreaterThanOrEqualUInt32(Vector256<float> left, Vector256<float> right) => Vector256.GreaterThanOrEqual(left.AsUInt32(), right.AsUInt32()).AsSingle();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static uint ExtractMostSignificantBits(Vector256<float> value) => Vector256.ExtractMostSignificantBits(value);
}
