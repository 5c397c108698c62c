using Amalgam.Kernels.Device;
using Amalgam.Kernels.Device.Cuda;

namespace Amalgam.Kernels.Tests.Device;

/// <summary>
/// The memory ONNX Runtime's sessions bind when they cannot bind the accelerator's buffers (on CUDA: the
/// primary context; here: separate host memory on ILGPU's CPU accelerator). A round trip accelerator ->
/// session -> accelerator keeps every bit, of a whole buffer and of a sub-view at an offset (the copies use
/// the view's own address, not its buffer's); on the CPU accelerator the session side holds the same bits.
/// Under AMALGAM_DEVICE_TESTS=cuda the same checks run on the device's primary context.
/// </summary>
public sealed class SessionMemoryDeviceTests
{
    private static SessionMemory Open(DeviceContext device) =>
        device.Sessions is { } sessions ? sessions : new HostSessionMemory(device.Accelerator);

    [TestCase(1, 0)]
    [TestCase(1000, 0)]
    [TestCase(4099, 37)]
    public unsafe void RoundTripKeepsEveryBit(int length, int offset)
    {
        var device = DeviceUnderTest.Device;
        if (DeviceUnderTest.OnCuda) Assert.That(device.Sessions, Is.InstanceOf<PrimaryContextMemory>(), "CUDA stages through the primary context");
        else Assert.That(device.Sessions, Is.Null, "the CPU accelerator's buffers are bound in place");
        var data = DeviceData.Uniform(new System.Random(length), offset + length, 3);
        data[offset] = float.NegativeZero;
        var memory = Open(device);
        try
        {
            using var bind = device.Enter();
            using var source = device.Upload<float>(data);
            using var back = device.Upload<float>(new float[offset + length]);
            device.Synchronize();
            IntPtr session = memory.Allocate(length * sizeof(float));
            memory.ToSession(session, source.View.SubView(offset, length));
            if (!DeviceUnderTest.OnCuda)
                DeviceData.AssertBitwise(new ReadOnlySpan<float>((void*)session, length), data.AsSpan(offset, length), "session copy");
            memory.FromSession(back.View.SubView(offset, length), session);
            var result = device.Download(back);
            DeviceData.AssertBitwise(result.AsSpan(offset, length), data.AsSpan(offset, length), "round trip");
            Assert.That(result.AsSpan(0, offset).ToArray(), Is.All.EqualTo(0f), "nothing before the view is written");
        }
        finally
        {
            if (!ReferenceEquals(memory, device.Sessions)) memory.Dispose();
        }
    }

    [Test]
    public void CpuContextWithStagedSessionsOwnsHostSessionMemory()
    {
        using var staged = DeviceContext.Cpu(4, 4, 1, stagedSessions: true);
        Assert.That(staged.Sessions, Is.InstanceOf<HostSessionMemory>());
        Assert.That(staged.Sessions!.Place, Is.EqualTo(ComputeDevice.Cpu));
        staged.Dispose();
        Assert.That(staged.Sessions, Is.Null, "disposed with the context");
    }
}
