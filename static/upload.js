// The upload form, enhanced: drop a file anywhere on the form, see it before
// sending, get the server's own limits checked at once, and watch a progress
// bar for large files. Without JavaScript the plain form works the same; the
// server checks everything again and has the last word.
(function () {
  'use strict';
  const form = document.querySelector('form[data-upload]');
  if (!form) return;
  const input = form.querySelector('input[type=file]');
  const zone = form.querySelector('.drop-zone');
  const preview = form.querySelector('.upload-preview');
  const status = form.querySelector('.upload-status');
  const progress = form.querySelector('progress');
  const button = form.querySelector('button[type=submit]');
  const types = input.accept.split(',');
  const maxBytes = Number(form.dataset.maxBytes);
  const maxDimension = Number(form.dataset.maxDimension);

  zone.hidden = false;

  function say(message, isError) {
    status.textContent = message;
    status.classList.toggle('form-error', Boolean(isError));
    input.setAttribute('aria-invalid', isError ? 'true' : 'false');
  }

  function megabytes(bytes) {
    return (bytes / (1024 * 1024)).toFixed(1) + ' MiB';
  }

  // The same checks the server makes first: type, size, then dimensions.
  function check(file) {
    return new Promise((resolve) => {
      if (!types.includes(file.type)) {
        return resolve(`${file.name} is not a JPEG, PNG, GIF or WebP image.`);
      }
      if (file.size > maxBytes) {
        return resolve(`${file.name} is ${megabytes(file.size)}; the limit is ${megabytes(maxBytes)}.`);
      }
      const url = URL.createObjectURL(file);
      const img = new Image();
      img.onload = () => {
        const tooBig = img.naturalWidth > maxDimension || img.naturalHeight > maxDimension;
        if (tooBig) {
          URL.revokeObjectURL(url);
          return resolve(`${file.name} is ${img.naturalWidth}×${img.naturalHeight} px; the limit is ${maxDimension} px on a side.`);
        }
        preview.src = url;
        preview.alt = `Preview of ${file.name}`;
        preview.hidden = false;
        resolve(null);
      };
      img.onerror = () => {
        URL.revokeObjectURL(url);
        resolve(`${file.name} cannot be read as an image.`);
      };
      img.src = url;
    });
  }

  async function chosen() {
    preview.hidden = true;
    const file = input.files[0];
    if (!file) return say('', false);
    const problem = await check(file);
    button.disabled = Boolean(problem);
    say(problem ?? `${file.name}, ${megabytes(file.size)}: ready to upload.`, Boolean(problem));
  }

  input.addEventListener('change', chosen);

  for (const name of ['dragenter', 'dragover']) {
    form.addEventListener(name, (event) => {
      event.preventDefault();
      zone.classList.add('dragging');
    });
  }
  for (const name of ['dragleave', 'drop']) {
    form.addEventListener(name, () => zone.classList.remove('dragging'));
  }
  form.addEventListener('drop', (event) => {
    event.preventDefault();
    if (event.dataTransfer.files.length === 0) return;
    input.files = event.dataTransfer.files;
    chosen();
  });

  // Sent with progress; the answer is the server's page either way.
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const request = new XMLHttpRequest();
    request.open('POST', form.action);
    request.setRequestHeader('X-Requested-With', 'XMLHttpRequest');
    progress.hidden = false;
    progress.value = 0;
    button.disabled = true;
    request.upload.addEventListener('progress', (e) => {
      if (e.lengthComputable) progress.value = e.loaded / e.total;
    });
    request.addEventListener('load', () => {
      const type = request.getResponseHeader('Content-Type') ?? '';
      if (request.status === 200 && type.startsWith('application/json')) {
        window.location.assign(JSON.parse(request.responseText).location);
        return;
      }
      const page = new DOMParser().parseFromString(request.responseText, 'text/html');
      // The upload page's own message, else an error page's title and text.
      const formError = page.querySelector('.form-error');
      const errorPage = page.querySelector('.error-page');
      const text = formError
        ? formError.textContent
        : errorPage
          ? `${errorPage.querySelector('h1').textContent}: ${errorPage.querySelector('h1 + p').textContent}`
          : `The upload failed (${request.status}).`;
      say(text.trim(), true);
      progress.hidden = true;
      button.disabled = false;
    });
    request.addEventListener('error', () => {
      say('The upload did not reach the server. Check the connection and try again.', true);
      progress.hidden = true;
      button.disabled = false;
    });
    request.send(new FormData(form));
  });
})();
