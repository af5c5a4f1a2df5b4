// Self-service borrowing: the phone's camera reads a volume's barcode (Code 128 or EAN-13) with
// the vendored ZXing library and submits the same form as typed entry, which works without
// this script. The camera starts only when the reader asks for it, and stops once a barcode is
// read or the reader closes it.
(function () {
  "use strict";

  var form = document.querySelector(".reader-self-service");
  var box = document.querySelector(".reader-camera");
  if (!form || !box || !window.ZXing) {
    return;
  }
  var ZXing = window.ZXing;
  var input = form.querySelector("input[name=barcode]");
  var start = box.querySelector(".reader-camera-start");
  var stop = box.querySelector(".reader-camera-stop");
  var video = box.querySelector("video");
  var status = box.querySelector(".reader-camera-status");
  var canvas = document.createElement("canvas");
  var context = canvas.getContext("2d", { willReadFrequently: true });
  var hints = new Map();
  hints.set(ZXing.DecodeHintType.POSSIBLE_FORMATS, [
    ZXing.BarcodeFormat.CODE_128,
    ZXing.BarcodeFormat.EAN_13,
  ]);
  hints.set(ZXing.DecodeHintType.TRY_HARDER, true);
  var decoder = new ZXing.MultiFormatReader();
  decoder.setHints(hints);
  var stream = null;
  var timer = null;

  // The text of the barcode in `source` (a video frame or an image), or null. A phone's frame
  // is scaled down to 800 pixels wide: enough for a barcode filling part of the view, and
  // quick to decode many times a second.
  function decode(source, width, height) {
    var scale = Math.min(1, 800 / width);
    canvas.width = Math.round(width * scale);
    canvas.height = Math.round(height * scale);
    context.drawImage(source, 0, 0, canvas.width, canvas.height);
    var luminance = new ZXing.HTMLCanvasElementLuminanceSource(canvas);
    try {
      return decoder.decode(new ZXing.BinaryBitmap(new ZXing.HybridBinarizer(luminance))).getText();
    } catch (error) {
      if (error instanceof ZXing.NotFoundException || error instanceof ZXing.ChecksumException ||
          error instanceof ZXing.FormatException) {
        return null;
      }
      throw error;
    } finally {
      decoder.reset();
    }
  }

  function say(key) {
    status.textContent = status.dataset[key] || "";
  }

  function close() {
    window.clearTimeout(timer);
    if (stream) {
      stream.getTracks().forEach(function (track) { track.stop(); });
      stream = null;
    }
    video.srcObject = null;
    video.hidden = true;
    stop.hidden = true;
    start.hidden = false;
  }

  function look() {
    if (!stream) {
      return;
    }
    var text = video.videoWidth ? decode(video, video.videoWidth, video.videoHeight) : null;
    if (text) {
      close();
      input.value = text;
      say("read");
      HTMLFormElement.prototype.requestSubmit.call(form);
      return;
    }
    timer = window.setTimeout(look, 150);
  }

  if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
    return; // No camera here (or not over HTTPS): typed entry stays the way.
  }
  start.hidden = false;
  start.addEventListener("click", function () {
    say("starting");
    navigator.mediaDevices
      .getUserMedia({ audio: false, video: { facingMode: "environment" } })
      .then(function (media) {
        stream = media;
        video.srcObject = media;
        video.hidden = false;
        stop.hidden = false;
        start.hidden = true;
        say("aim");
        return video.play();
      })
      .then(look)
      .catch(function () {
        close();
        say("denied");
      });
  });
  stop.addEventListener("click", function () {
    close();
    say("");
  });

  // The same decoding as the camera's, for an image (a test feeds it a generated barcode).
  window.sharedloanSelfService = {
    decodeImage: function (image) {
      return decode(image, image.naturalWidth, image.naturalHeight);
    },
  };
})();
