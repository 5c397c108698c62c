using System.Runtime.InteropServices;
using System.Text;

namespace Amalgam.Bench.Runtime.PreviousBinding;

/// <summary>
/// An array of null-terminated UTF-8 strings in one native block (<c>const char* const*</c>), as ORT's
/// Run takes names. Made once per session or bound run so repeated runs marshal nothing.
/// </summary>
internal sealed unsafe class NativeUtf8Strings : SafeHandle
{
    public NativeUtf8Strings(IReadOnlyList<string> strings) : base(IntPtr.Zero, ownsHandle: true)
    {
        Count = strings.Count;
        long pointerBytes = (long)Count * sizeof(byte*);
        long textBytes = 0;
        foreach (string s in strings) textBytes += Encoding.UTF8.GetByteCount(s) + 1;
        byte* block = (byte*)NativeMemory.Alloc((nuint)Math.Max(1, pointerBytes + textBytes));
        SetHandle((IntPtr)block);

        var pointers = (byte**)block;
        byte* text = block + pointerBytes;
        for (int i = 0; i < Count; i++)
        {
            pointers[i] = text;
            int n = Encoding.UTF8.GetByteCount(strings[i]);
            Encoding.UTF8.GetBytes(strings[i], new Span<byte>(text, n));
            text[n] = 0;
            text += n + 1;
        }
    }

    public int Count { get; }

    /// <summary>The pointer array; valid while this object is alive and not disposed.</summary>
    public byte** Pointers
    {
        get
        {
            ObjectDisposedException.ThrowIf(IsClosed, this);
            return (byte**)handle;
        }
    }

    public override bool IsInvalid => handle == IntPtr.Zero;

    protected override bool ReleaseHandle()
    {
        NativeMemory.Free((void*)handle);
        return true;
    }
}
