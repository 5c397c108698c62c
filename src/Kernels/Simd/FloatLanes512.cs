using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Amalgam.Kernels.Simd;

/// <summary>16 float lanes: <see cref="Vector512{T}"/> of float as an <see cref="IFloatLanes{TV}"/>.</summary>
internal readonly unsafe struct FloatLanes512 : IFloatLanes<Vector512<float>>
{
    public static int Count => 16;

    public static bool IsHardwareAccelerated => Vector512.IsHardwareAccelerated;

    public static Vector512<float> Zero
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get => Vector512<float>.Zero;
    }

    public static Vector512<float> One
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get => Vector512<float>.One;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Create(float value) => Vector512.Create(value);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Load(float* source) => Vector512.Load(source);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> LoadBf16(ushort* source) => Vector512.ShiftLeft(Vector512.WidenLower(Vector256.Load(source).ToVector512Unsafe()), 16).AsSingle();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static (Vector512<float> Lower, Vector512<float> Upper) LoadBf16Pair(ushort* source)
    {
        var (lower, upper) = Vector512.Widen(Vector512.Load(source));
        return (Vector512.ShiftLeft(lower, 16).AsSingle(), Vector512.ShiftLeft(upper, 16).AsSingle());
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Store(Vector512<float> value, float* destination) => value.Store(destination);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> LoadUnsafe(ref float source, nuint elementOffset) => Vector512.LoadUnsafe(ref source, elementOffset);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void StoreUnsafe(Vector512<float> value, ref float destination, nuint elementOffset) => value.StoreUnsafe(ref destination, elementOffset);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Add(Vector512<float> left, Vector512<float> right) => left + right;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Subtract(Vector512<float> left, Vector512<float> right) => left - right;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Multiply(Vector512<float> left, Vector512<float> right) => left * right;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Divide(Vector512<float> left, Vector512<float> right) => left / right;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> And(Vector512<float> left, Vector512<float> right) => left & right;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Or(Vector512<float> left, Vector512<float> right) => left | right;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Not(Vector512<float> value) => ~value;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Abs(Vector512<float> value) => Vector512.Abs(value);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Sqrt(Vector512<float> value) => Vector512.Sqrt(value);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Equals(Vector512<float> left, Vector512<float> right) => Vector512.Equals(left, right);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> GreaterThan(Vector512<float> left, Vector512<float> right) => Vector512.GreaterThan(left, right);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> GreaterThanOrEqual(Vector512<float> left, Vector512<float> right) => Vector512.GreaterThanOrEqual(left, right);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> LessThan(Vector512<float> left, Vector512<float> right) => Vector512.LessThan(left, right);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> ConditionalSelect(Vector512<float> mask, Vector512<float> left, Vector512<float> right) => Vector512.ConditionalSelect(mask, left, right);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> MaxNative(Vector512<float> left, Vector512<float> right) => Vector512.MaxNative(left, right);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> MinNative(Vector512<float> left, Vector512<float> right) => Vector512.MinNative(left, right);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> LoadUInt32(uint* source) => Vector512.Load(source).AsSingle();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> CreateUInt32(uint value) => Vector512.Create(value).AsSingle();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> ShiftRightLogical(Vector512<float> value, int count) => Vector512.ShiftRightLogical(value.AsUInt32(), count).AsSingle();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> GreaterThanOrEqualUInt32(Vector512<float> left, Vector512<float> right) => Vector512.GreaterThanOrEqual(left.AsUInt32(), right.AsUInt32()).AsSingle();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static uint ExtractMostSignificantBits(Vector512<float> value) => (uint)Vector512.ExtractMostSignificantBits(value);
}
