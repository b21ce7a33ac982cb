/* FAB's date picker and select boxes in the page's language (<html lang>): bootstrap-datepicker's
   Indonesian locale and Select2's messages. Loaded after both libraries and before FAB's ab.js, which
   creates the widgets with these defaults. Local file: no CDN. */
(function ($) {
  "use strict";
  if (!$ || (document.documentElement.lang || "id").slice(0, 2) !== "id") { return; }
  if ($.fn.datepicker) {
    $.fn.datepicker.dates.id = {
      days: ["Minggu", "Senin", "Selasa", "Rabu", "Kamis", "Jumat", "Sabtu"],
      daysShort: ["Min", "Sen", "Sel", "Rab", "Kam", "Jum", "Sab"],
      daysMin: ["Mg", "Sn", "Sl", "Rb", "Km", "Jm", "Sb"],
      months: ["Januari", "Februari", "Maret", "April", "Mei", "Juni", "Juli", "Agustus", "September",
               "Oktober", "November", "Desember"],
      monthsShort: ["Jan", "Feb", "Mar", "Apr", "Mei", "Jun", "Jul", "Agt", "Sep", "Okt", "Nov", "Des"],
      today: "Hari ini", monthsTitle: "Bulan", clear: "Kosongkan", weekStart: 1, format: "dd-mm-yyyy"
    };
    $.fn.datepicker.defaults.language = "id";
    $.fn.datepicker.defaults.weekStart = 1;
  }
  if ($.fn.select2 && $.fn.select2.defaults) {
    $.fn.select2.defaults.set("language", {
      errorLoading: function () { return "Data tidak dapat dimuat."; },
      inputTooLong: function (a) { return "Hapus " + (a.input.length - a.maximum) + " huruf."; },
      inputTooShort: function (a) { return "Ketik " + (a.minimum - a.input.length) + " huruf lagi."; },
      loadingMore: function () { return "Memuat data lainnya…"; },
      maximumSelected: function (a) { return "Paling banyak " + a.maximum + " pilihan."; },
      noResults: function () { return "Tidak ada yang cocok."; },
      searching: function () { return "Mencari…"; },
      removeAllItems: function () { return "Hapus semua pilihan"; },
      removeItem: function () { return "Hapus pilihan ini"; }
    });
  }
}(window.jQuery));
